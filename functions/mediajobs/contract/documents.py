"""Every Firestore document clients read, as models of its JSON form.

jobs/{job_id} and jobs/{job_id}/items/{item_id} have one model per job type (input, options,
item and job `result` typed) and a generic one; webhook deliveries, devices and notification
settings. Projects, scenes, takes, moods, videos and auto uploads: owned_documents.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import pydantic

from mediajobs.contract import results
from mediajobs.contract.common import (
    EmptyResult,
    ErrorInfo,
    ItemErrorInfo,
    ItemStatus,
    JobStatus,
    Progress,
    Shape,
    Timestamp,
)
from mediajobs.jobs.notify.models import Channel, DevicePlatform, NotifySettings, WebhookEvent

JOB_FIELDS_ONCE_STARTED = [
    "progress", "current", "result", "error", "errors", "cancel_requested", "created_at", "updated_at",
]  # fmt: skip
ITEM_FIELDS_ONCE_SETTLED = ["result", "error", "finished_at"]
OPTIONS_NOTE = "With defaults filled in; absent only when a trusted writer left it out (treat as {})."


def _required_once(statuses: list[str], fields: list[str]) -> dict[str, Any]:
    """JSON Schema: these fields are present once the document has one of these statuses."""
    return {"if": {"properties": {"status": {"enum": statuses}}}, "then": {"required": fields}}


class JobBase(Shape):
    """jobs/{job_id}. A trusted writer may create a queued job with only type, owner_uid,
    status, input and options; every field is there once the job has started."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=_required_once(["processing", "completed", "failed", "cancelled"], JOB_FIELDS_ONCE_STARTED)
    )

    owner_uid: str = pydantic.Field(description="uid of whoever asked.")
    status: JobStatus
    progress: Progress | None = None
    current: str | None = pydantic.Field(default=None, description="Label of the item being worked on now.")
    error: ErrorInfo | None = pydantic.Field(default=None, description="Why the job as a whole failed.")
    errors: list[ItemErrorInfo] = pydantic.Field(
        default=[], max_length=50, description="The first item errors: at most 50, and 64 KiB in all."
    )
    cancel_requested: bool = False
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    heartbeat_at: Timestamp | None = None
    expire_at: Timestamp | None = pydantic.Field(
        default=None, description="When Firestore's TTL policy deletes the job (30 days after it was queued)."
    )
    notify: NotifySettings | None = pydantic.Field(
        default=None, description="How the owner is told about the job, as start_job was asked (webhook, events)."
    )


class ItemBase(Shape):
    """jobs/{job_id}/items/{item_id}."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=_required_once(["done", "failed", "cancelled"], ITEM_FIELDS_ONCE_SETTLED)
    )

    label: str = pydantic.Field(description="What clients show for this item.")
    status: ItemStatus
    attempts: int = pydantic.Field(ge=0)
    payload: dict[str, Any] = pydantic.Field(description="Internal to the engine; do not rely on it.")
    error: ErrorInfo | None = None
    attempt_id: str | None = pydantic.Field(default=None, description="Internal to the engine.")
    lease_until: Timestamp | None = None
    created_at: Timestamp
    started_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    duration_ms: int | None = pydantic.Field(default=None, ge=0)
    checkpoint: dict[str, Any] = pydantic.Field(
        default={}, description="Internal to the engine: what an attempt saved for the next one."
    )
    expire_at: Timestamp | None = pydantic.Field(default=None, description="When Firestore's TTL policy deletes it.")
    fraction: float | None = pydantic.Field(
        default=None,
        ge=0,
        le=1,
        description="How far the running item is (0..1): written from about a second into it, at most "
        "about once a second (an export user's bytes, a video output's encode time). Absent for short "
        "items; stays as last written once the item settles (read `status` first).",
    )
    current: str | None = pydantic.Field(
        default=None, description='What the running item is doing, with `fraction` (e.g. "12.0 MB of 40.0 MB").'
    )


@dataclasses.dataclass(frozen=True)
class JobType:
    name: str  # the job type
    title: str  # prefix of the models' names
    input: type[pydantic.BaseModel]
    options: type[pydantic.BaseModel]
    item_result: type[pydantic.BaseModel]
    result: type[pydantic.BaseModel]
    # For the contract's reference tables (contract/reference.py); optional for new kinds.
    who: str = ""  # who may start it, and how
    items: str = ""  # one item per ...: its id and label
    outputs: tuple[str, ...] = ()  # Storage paths it writes (patterns)


def job_types() -> list[JobType]:
    """Every job type with its models (imports the kinds' modules)."""
    from mediajobs.exports.kind import ExportInput, ExportOptions
    from mediajobs.exports.my_data import MyDataInput, MyDataOptions
    from mediajobs.photos.kind import PhotoInput, PhotoOptions
    from mediajobs.scenes.kind import MoodBoardInput, NoOptions, SceneAssetInput
    from mediajobs.scenes.storyboard import StoryboardInput
    from mediajobs.selftest.kind import SelftestInput, SelftestOptions
    from mediajobs.video.models import VideoInput, VideoOptions

    r = results
    return [
        JobType(
            "media_export", "MediaExport", ExportInput, ExportOptions, r.ExportItemResult, r.ExportResult,
            who="admins (`admin: true` claim), through `start_job`",
            items="user: id = the user id; label = the user's email when all users are exported, "
            "the user id when `user_ids` are given",
            outputs=(
                "exports/{job_id}/{safe_email}.zip", "exports/{job_id}/{safe_email}-{nnn}.zip (split parts)",
                "exports/{job_id}/index.json",
            ),
        ),
        JobType(
            "my_data", "MyData", MyDataInput, MyDataOptions, r.MyDataResult, r.MyDataResult,
            who="any signed-in user, for their own data, through `start_job`",
            items="one item: id = `my-data`; label = `your data`",
            outputs=(
                "jobs/{job_id}/my-data.zip", "jobs/{job_id}/my-data-{nnn}.zip (split parts)",
                "jobs/{job_id}/my_data.json",
            ),
        ),
        JobType(
            "photo_batch", "PhotoBatch", PhotoInput, PhotoOptions, r.PhotoItemResult, r.PhotoResult,
            who="signed-in users, own files under `users/{uid}/` or `uploads/{uid}/` (`start_job`, `POST /upload`)",
            items="image (ZIPs expanded at planning): id = `img-NNNNN`; label = the file (or ZIP entry) name",
            outputs=("jobs/{job_id}/outputs/{name}.{png|webp|jpg}", "jobs/{job_id}/results.zip"),
        ),
        JobType(
            "video_process", "VideoProcess", VideoInput, VideoOptions, r.VideoItemResult, r.VideoResult,
            who="signed-in users, own uploads (`start_job`)",
            items="output: ids `thumbnails`, `r{hhhh}` (a rendition, e.g. `r0720`), `audio`, `mobile`; "
            "label = `{file}: {what}`; each item's result is a `VideoItemResult`",
            outputs=(
                "videos/{video_id}/thumb_{n}.jpg", "videos/{video_id}/poster.jpg",
                "videos/{video_id}/previews.jpg", "videos/{video_id}/previews.vtt",
                "videos/{video_id}/{h}p.mp4", "videos/{video_id}/mobile.mp4",
                "videos/{video_id}/stream/master.m3u8", "videos/{video_id}/stream/manifest.mpd",
                "videos/{video_id}/stream/{h}p/...", "videos/{video_id}/stream/audio/...",
                "videos/{video_id}/stream/captions/{language}.vtt",
            ),
        ),
        JobType(
            "scene_asset", "SceneAsset", SceneAssetInput, NoOptions, r.SceneAssetResult, r.SceneAssetResult,
            who="the project's owner, through `generate_scene_asset`",
            items="one item `asset`; label = `{kind} of scene {scene_id}`",
            outputs=(
                "projects/{project_id}/scenes/{scene_id}/{kind}/{job_id}.{json|png|mp4|wav}",
                "projects/{project_id}/scenes/{scene_id}/image/{job_id}-thumb.png",
            ),
        ),
        JobType(
            "mood_board", "MoodBoard", MoodBoardInput, NoOptions, r.MoodItemResult, r.MoodBoardResult,
            who="the project's owner, through `start_job`",
            items="mood: id = `mood-{n}`; label = `mood {n} of {count}`",
            outputs=("projects/{project_id}/moods/{mood_id}/{job_id}-{n}.png",),
        ),
        JobType(
            "storyboard_assets", "StoryboardAssets", StoryboardInput, NoOptions, r.StoryboardSceneResult,
            r.StoryboardResult,
            who="the project's owner, through `generate_storyboard`",
            items="scene: id = the scene id; label = `scene {title}`",
            outputs=("projects/{project_id}/scenes/{scene_id}/{kind}/{job_id}.{json|png|mp4|wav}",),
        ),
        JobType(
            "selftest", "Selftest", SelftestInput, SelftestOptions, r.SelftestItemResult, r.SelftestResult,
            who="anyone signed in, only when the param `SELFTEST_JOBS_ENABLED` is on (engine tests)",
            items="`item-NNNNN`",
        ),
    ]  # fmt: skip


def job_model(kind: JobType) -> type[pydantic.BaseModel]:
    job_type: Any = Literal[kind.name]
    result: Any = kind.result | EmptyResult | None
    model: type[pydantic.BaseModel] = pydantic.create_model(
        f"{kind.title}Job",
        __base__=JobBase,
        __doc__=f"jobs/{{job_id}} of a `{kind.name}` job.",
        type=(job_type, ...),
        input=(kind.input, ...),
        options=(kind.options, pydantic.Field(default_factory=kind.options, description=OPTIONS_NOTE)),
        result=(result, pydantic.Field(default=None, description="Set when the job ends.")),
    )
    return model


def item_model(kind: JobType) -> type[pydantic.BaseModel]:
    result: Any = kind.item_result | None
    model: type[pydantic.BaseModel] = pydantic.create_model(
        f"{kind.title}Item",
        __base__=ItemBase,
        __doc__=f"jobs/{{job_id}}/items/{{item_id}} of a `{kind.name}` job.",
        result=(result, pydantic.Field(default=None, description="Set when the item is done.")),
    )
    return model


class AnyJob(JobBase):
    """jobs/{job_id} of any type, including jobs rejected at start (their input and options
    stay as the writer wrote them)."""

    type: str
    input: dict[str, Any]
    options: dict[str, Any] = pydantic.Field(default={}, description=OPTIONS_NOTE)
    result: dict[str, Any] | None = None


class AnyItem(ItemBase):
    """jobs/{job_id}/items/{item_id} of any type."""

    result: dict[str, Any] | None = None


class WebhookDelivery(Shape):
    """jobs/{job_id}/deliveries/{n}: one attempt at delivering an event to the job's webhook, push
    devices or email (n counts the job's attempts of every channel from 1). The owner reads them;
    the functions write them."""

    channel: Channel = pydantic.Field(default=Channel.WEBHOOK, description="webhook, push or email.")
    event: WebhookEvent
    webhook_id: str | None = pydantic.Field(
        default=None, description="Webhook: `{job_id}-{event}`, the same on every attempt of an event; else null."
    )
    attempt: int = pydantic.Field(ge=1, description="Attempt number of this event (1 is the first).")
    attempted_at: Timestamp
    status_code: int | None = pydantic.Field(description="The receiver's HTTP status; null: no answer.")
    latency_ms: int | None = pydantic.Field(ge=0, description="From sending to the answer; null if not sent.")
    error: str | None = pydantic.Field(description="Why there was no answer, or why the URL was refused.")
    next_attempt_at: Timestamp | None = pydantic.Field(
        description="When the next attempt is due (estimated from the queue's backoff); null: delivered or given up."
    )
    sent: int | None = pydantic.Field(
        default=None, ge=0, description="Push: devices FCM accepted the message for; email: mail documents written."
    )
    removed: int | None = pydantic.Field(
        default=None, ge=0, description="Push: devices deleted because FCM reported their token unregistered."
    )
    skipped: str | None = pydantic.Field(
        default=None, description="Why nothing was sent and nothing will be (no device, email not verified)."
    )
    expire_at: Timestamp = pydantic.Field(description="When Firestore's TTL policy deletes it.")


class Device(Shape):
    """users/{uid}/devices/{token}: a device that gets push notifications of the user's jobs
    (register_device writes it). The user reads it and may delete it to stop pushes there."""

    token: str = pydantic.Field(description="The FCM registration token (also the document id).")
    platform: DevicePlatform
    updated_at: Timestamp = pydantic.Field(description="When it was last registered.")
    expire_at: Timestamp = pydantic.Field(description="270 days after the last registration (TTL).")


class NotificationSettingsDocument(Shape):
    """users/{uid}/settings/notifications: defaults for the user's jobs that pass no `notify`
    (set_notification_settings writes it; the user reads it)."""

    webhook: str | None = pydantic.Field(description="An https URL, or null for no webhook.")
    push: bool
    email: bool
    updated_at: Timestamp
