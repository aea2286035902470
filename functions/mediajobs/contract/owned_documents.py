"""The documents users own outside jobs, as models of their JSON form: projects with their
scenes, takes and moods, library videos, and the records of processing on upload. (Jobs and
their items, deliveries, devices and settings are in documents.py.)"""

from __future__ import annotations

from typing import Literal

import pydantic

from mediajobs.contract import results
from mediajobs.contract.common import (
    AssetKind,
    ErrorInfo,
    JobStatus,
    Shape,
    Timestamp,
)
from mediajobs.scenes.models import Storyboard
from mediajobs.scenes.params import GenerationParams

# ---------------------------------------------------------------- projects


class ProjectStats(Shape):
    total_scenes: int = pydantic.Field(ge=0)
    completed_scenes: int = pydantic.Field(ge=0, description="Scenes with all four asset kinds.")
    last_activity: Timestamp | None = None


class StoryboardJob(Shape):
    """The project's latest storyboard_assets job, mirrored from jobs/{job_id}."""

    job_id: str
    status: JobStatus
    total_scenes: int = pydantic.Field(ge=0)
    done_scenes: int = pydantic.Field(ge=0)
    failed_scenes: int = pydantic.Field(ge=0)
    percent: int = pydantic.Field(ge=0, le=100)
    last_update: Timestamp | None = None
    job_updated_at: Timestamp | None = None


class Project(Shape):
    """projects/{project_id}."""

    name: str = pydantic.Field(min_length=1, max_length=200)
    description: str = pydantic.Field(max_length=2000)
    user_id: str = pydantic.Field(description="The owner's uid.")
    storyboard: Storyboard
    scene_order: list[str] = pydantic.Field(description="Scene ids in order.")
    stats: ProjectStats
    storyboard_job: StoryboardJob | None = None
    created_at: Timestamp
    updated_at: Timestamp


class SceneAssets(Shape):
    composition_path: str | None = None
    image_path: str | None = None
    video_path: str | None = None
    audio_path: str | None = None
    thumbnail_path: str | None = None
    generated_at: Timestamp | None = None


class Composition(Shape):
    description: str
    styling: str
    animation: str
    generated_at: Timestamp | None = None


class ActiveJob(Shape):
    """The scene's current scene_asset job, mirrored from jobs/{job_id} (which may be ahead)."""

    job_id: str
    type: AssetKind = pydantic.Field(description="The asset kind being generated.")
    status: JobStatus
    progress: int = pydantic.Field(ge=0, le=100, description="The job's percent.")
    started_at: Timestamp | None = None
    last_update: Timestamp | None = None
    error_message: str | None = None
    job_updated_at: Timestamp | None = None
    storyboard: bool = pydantic.Field(
        default=False, description="Held by a storyboard_assets job (which makes `type`, then the next kind)."
    )


class SelectedTakes(Shape):
    """The take shown per asset kind (its paths are the scene's `assets`)."""

    composition: str | None = None
    image: str | None = None
    video: str | None = None
    audio: str | None = None


class TakeComposition(Shape):
    description: str
    styling: str
    animation: str


class Take(Shape):
    """projects/{project_id}/scenes/{scene_id}/takes/{take_id}: one finished asset of the scene
    (take_id = `{job_id}-{kind}`). The owner reads it; only the functions write it."""

    kind: AssetKind
    job_id: str = pydantic.Field(description="The scene_asset or storyboard_assets job that made it.")
    path: str = pydantic.Field(description="projects/{project_id}/scenes/{scene_id}/{kind}/{job_id}.<ext>")
    thumbnail_path: str | None = pydantic.Field(default=None, description="A 320 px PNG, for images.")
    content_type: str
    size: int = pydantic.Field(ge=0)
    prompt: str = pydantic.Field(description="The text the model was given (first 4000 characters).")
    params: GenerationParams = pydantic.Field(description="The parameters asked for (only those set).")
    provider: str = pydantic.Field(description="`local` or `replicate`.")
    model: str | None = pydantic.Field(
        default=None, description="The model as the provider was asked for it (`owner/name[:version]`)."
    )
    prediction_id: str | None = pydantic.Field(default=None, description="The provider's prediction id.")
    composition: TakeComposition | None = pydantic.Field(default=None, description="For compositions.")
    created_at: Timestamp


class Scene(Shape):
    """projects/{project_id}/scenes/{scene_id}."""

    scene_number: int = pydantic.Field(ge=1, le=1000)
    title: str = pydantic.Field(min_length=1, max_length=200)
    description: str = pydantic.Field(max_length=4000)
    duration_seconds: float = pydantic.Field(gt=0, le=120)
    assets: SceneAssets
    composition: Composition | None
    active_job: ActiveJob | None
    selected_takes: SelectedTakes | None = pydantic.Field(
        default=None, description="The selected take per kind (absent on scenes made before takes)."
    )
    created_at: Timestamp
    updated_at: Timestamp


class Mood(Shape):
    """projects/{project_id}/moods/{mood_id}."""

    id: str | None = pydantic.Field(default=None, description="The mood's document id (set since storyboards).")
    name: str
    description: str
    visual_style: str
    color_palette: list[str] = pydantic.Field(description='Colours as "#rrggbb".')
    mood_keywords: list[str]
    image_paths: list[str]
    created_at: Timestamp


# ---------------------------------------------------------------- the video library


class VideoCaption(Shape):
    path: str = pydantic.Field(description="videos/{video_id}/stream/captions/{language}.vtt")
    label: str = pydantic.Field(description="What players show (default: the language).")


class Video(Shape):
    """videos/{video_id}: a lasting video of its owner, made by the `video_process` job whose id
    is the video id. Its objects live under videos/{video_id}/ (no lifecycle rule expires them)
    until `delete_video`. The owner and admins read it; anyone reads it once `public` is true."""

    owner_uid: str
    job_id: str = pydantic.Field(description="The video_process job that made it.")
    title: str = pydantic.Field(min_length=1, max_length=200)
    source: str = pydantic.Field(description="The uploaded file it was made from (users/{uid}/...).")
    size_bytes: int = pydantic.Field(ge=0, description="The source's size.")
    status: Literal["processing", "ready", "failed", "cancelled"]
    public: bool = pydantic.Field(description="Readable by anyone (documents and objects); set with update_video.")
    error: ErrorInfo | None = pydantic.Field(default=None, description="Why it failed (the job's error).")
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool | None = None
    thumbnails: list[str] = pydantic.Field(default=[], description="videos/{video_id}/thumb_N.jpg")
    poster: str | None = pydantic.Field(default=None, description="videos/{video_id}/poster.jpg, 320 px wide")
    renditions: list[results.VideoRendition] = []
    mobile_path: str | None = None
    hls_master_path: str | None = pydantic.Field(default=None, description="Play through download_url.")
    dash_manifest_path: str | None = pydantic.Field(default=None, description="Play through download_url.")
    preview: results.VideoPreview | None = None
    captions: dict[str, VideoCaption] = pydantic.Field(
        default={}, description="Language (BCP 47) -> its WebVTT captions (set_caption): HLS subtitles, DASH text."
    )
    created_at: Timestamp
    updated_at: Timestamp


# ---------------------------------------------------------------- processing on upload


class AutoUpload(Shape):
    """auto_uploads/{key}: one uploaded version of an image under users/{uid}/auto/{preset}/ and the
    photo_batch job it started (key = that job's id). Written by the Storage trigger, the job's
    completion and auto_backfill; its owner and admins read it."""

    owner_uid: str
    source: str = pydantic.Field(description="users/{uid}/auto/{preset}/...: the uploaded image.")
    generation: str = pydantic.Field(description="The Storage generation of the version processed.")
    preset: str = pydantic.Field(description="The preset (the folder under auto/).")
    job_id: str = pydantic.Field(description="The photo_batch job (its id is this document's).")
    status: Literal["started", "refused", "completed"] = pydantic.Field(
        description="refused: a cap (active jobs) refused the start; auto_backfill retries it."
    )
    error: ErrorInfo | None = pydantic.Field(default=None, description="Why the start was refused.")
    outputs: list[str] = pydantic.Field(default=[], description="users/{uid}/auto-out/{preset}/...: what it made.")
    duplicate_events: int = pydantic.Field(
        default=0, ge=0, description="Further deliveries of the same upload's event (each started nothing)."
    )
    created_at: Timestamp
    updated_at: Timestamp
    expire_at: Timestamp = pydantic.Field(description="Firestore TTL: the record goes after 30 days.")
