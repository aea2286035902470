"""`result` of items and jobs per job type, as the kinds write them (they return plain dicts).

Keep these in step with the kinds: the integration tests validate every document against
the schemas generated from here, so a field a kind adds or drops fails them until it is
added here and `make contract` is run.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic

from mediajobs.contract.common import AssetKind, Shape, Timestamp

# ---------------------------------------------------------------- media_export

EXPORT_FILE_ERROR_CODES = (
    "invalid-id-list, invalid-id, duplicate-id, too-many-ids, metadata-not-found, invalid-storage-path, "
    "object-missing, object-unreadable, empty-file"
)


class ExportFileError(Shape):
    id: str = pydantic.Field(description="The image or voice id (or the id field's name).")
    kind: Literal["images", "voices"]
    code: str = pydantic.Field(description=EXPORT_FILE_ERROR_CODES)
    message: str


class ArchivePart(Shape):
    number: int = pydantic.Field(ge=1, description="1, 2, ... in the order of the parts.")
    path: str = pydantic.Field(description="The part's ZIP: `<name>.zip` alone, else `<name>-001.zip`, ...")
    digest: str = pydantic.Field(description="Names the files the part holds; a resumed export keeps equal parts.")
    files: int = pydantic.Field(ge=0, description="Files in this part.")
    bytes: int = pydantic.Field(ge=0, description="Their size before compression.")
    archive_bytes: int = pydantic.Field(ge=0, description="Size of the part's ZIP object.")
    sha256: str = pydantic.Field(description="sha256 (hex) of the part's ZIP object.")
    crc32c: str = pydantic.Field(description="The part's CRC32C (base64), as Storage reports it.")
    expires_at: Timestamp = pydantic.Field(description="When the bucket's lifecycle rule deletes the part.")


class ExportItemResult(Shape):
    user_id: str
    email: str
    path: str = pydantic.Field(description="exports/{job_id}/{safe_email}.zip, or its first part when split.")
    files: int = pydantic.Field(ge=0, description="Files in the archive (all parts).")
    bytes: int = pydantic.Field(ge=0, description="Their size before compression.")
    archive_bytes: int | None = pydantic.Field(ge=0, description="Size of the ZIP objects (all parts).")
    archive_crc32c: str | None = pydantic.Field(description="The ZIP object's CRC32C (base64); null when split.")
    parts: list[ArchivePart] = pydantic.Field(
        min_length=1, description="Every part (one when the archive is under `archive_max_bytes`)."
    )
    expires_at: Timestamp = pydantic.Field(description="When the first part is deleted by the lifecycle rule.")
    file_errors: list[ExportFileError] = pydantic.Field(max_length=50, description="The first 50 per-file errors.")
    failed_files: int = pydantic.Field(ge=0)
    warnings: list[ExportFileError] = pydantic.Field(
        default=[],
        max_length=50,
        description="Files archived with a warning (`size-mismatch`: the metadata's size differs from the bytes read).",
    )
    resumed_from: str | None = pydantic.Field(
        default=None, description="Set when the archive of that earlier export was reused."
    )


class ExportArchivePart(Shape):
    number: int = pydantic.Field(ge=1)
    path: str
    archive_bytes: int = pydantic.Field(ge=0)
    sha256: str
    expires_at: Timestamp


class ExportArchive(Shape):
    user_id: str
    email: str
    path: str
    files: int = pydantic.Field(ge=0)
    bytes: int = pydantic.Field(ge=0)
    expires_at: Timestamp = pydantic.Field(description="When the bucket's lifecycle rule deletes the archive.")
    parts: list[ExportArchivePart] = pydantic.Field(description="Every part of the archive, to download each.")


class ExportResult(Shape):
    archives: list[ExportArchive] = pydantic.Field(max_length=500, description="At most 500; all in index_path.")
    archives_truncated: bool
    index_path: str = pydantic.Field(description="exports/{job_id}/index.json, every archive.")
    total_files: int = pydantic.Field(ge=0)
    total_bytes: int = pydantic.Field(ge=0)
    failed_files: int = pydantic.Field(ge=0)
    successful_users: int = pydantic.Field(ge=0)
    failed_users: int = pydantic.Field(ge=0)
    processing_time_seconds: float = pydantic.Field(ge=0)


# ---------------------------------------------------------------- my_data


class MyDataFileError(Shape):
    path: str = pydantic.Field(description="The object that could not be archived.")
    code: str = pydantic.Field(description="object-missing, object-unreadable, empty-file")
    message: str


class MyDataCounts(Shape):
    objects: int = pydantic.Field(ge=0, description="Storage objects found (archived or in file_errors).")
    jobs: int = pydantic.Field(ge=0)
    projects: int = pydantic.Field(ge=0)
    scenes: int = pydantic.Field(ge=0)
    moods: int = pydantic.Field(ge=0)
    videos: int = pydantic.Field(ge=0)


class MyDataResult(Shape):
    path: str = pydantic.Field(description="jobs/{job_id}/my-data.zip, or its first part when split.")
    index_path: str = pydantic.Field(description="jobs/{job_id}/my_data.json: every document held for the user.")
    files: int = pydantic.Field(ge=0, description="Files in the archive (all parts).")
    bytes: int = pydantic.Field(ge=0, description="Their size before compression.")
    archive_bytes: int = pydantic.Field(ge=0, description="Size of the ZIP objects (all parts).")
    parts: list[ArchivePart] = pydantic.Field(min_length=1, description="Every part, each a complete ZIP.")
    expires_at: Timestamp = pydantic.Field(description="When the first part is deleted by the lifecycle rule.")
    counts: MyDataCounts
    file_errors: list[MyDataFileError] = pydantic.Field(max_length=50, description="The first 50.")
    failed_files: int = pydantic.Field(ge=0)


# ---------------------------------------------------------------- photo_batch


class PhotoItemResult(Shape):
    input: str = pydantic.Field(description="The image's name (a ZIP entry's name inside its archive).")
    input_path: str
    output_path: str = pydantic.Field(description="jobs/{job_id}/outputs/<name>.<png|webp>")
    size: int = pydantic.Field(ge=0)
    crc32: int = pydantic.Field(ge=0)
    zip_part: str | None = pydantic.Field(
        default=None,
        description="Scratch: the output behind its results.zip header (jobs/{job_id}/results-parts/members/...), "
        "deleted once results.zip is composed.",
    )
    width: int = pydantic.Field(ge=1)
    height: int = pydantic.Field(ge=1)
    faces_found: int = pydantic.Field(ge=0)
    crop_box: list[int] | None = pydantic.Field(min_length=4, max_length=4, description="[left, top, right, bottom]")
    warnings: list[str]
    duration_ms: int = pydantic.Field(ge=0)


class PhotoSkipped(Shape):
    source: str = pydantic.Field(description="The archive's storage path.")
    entry: str = pydantic.Field(description="The entry's name in the archive, clipped to 300 bytes (ending in …).")
    reason: Literal["hidden-file", "nested-archive", "not-an-image", "too-large", "corrupt-entry", "too-many-images"]
    message: str


class PhotoResult(Shape):
    outputs: list[str] = pydantic.Field(
        description="Storage paths of the processed images: the first ones, 128 KiB of paths at most "
        "(outputs_omitted counts the rest; results.zip and the items hold every one)."
    )
    outputs_omitted: int = pydantic.Field(
        default=0, ge=0, description="Outputs not listed in `outputs` (absent from results written before it)."
    )
    archive_path: str = pydantic.Field(description="jobs/{job_id}/results.zip, always present: every output.")
    succeeded: int = pydantic.Field(ge=0)
    failed: int = pydantic.Field(ge=0)
    skipped: list[PhotoSkipped] = pydantic.Field(
        max_length=500,
        description="The first skipped entries, 500 and 48 KiB at most (names and messages clipped).",
    )
    skipped_count: int = pydantic.Field(ge=0, description="Entries skipped in all, listed or not.")
    skipped_omitted: int = pydantic.Field(
        default=0, ge=0, description="Skipped entries not listed in `skipped` (absent from results written before it)."
    )


# ---------------------------------------------------------------- video_process


class VideoRendition(Shape):
    height: int
    width: int
    path: str = pydantic.Field(description="videos/{video_id}/{height}p.mp4 (jobs/{job_id}/video/ before the library)")
    bitrate: int = pydantic.Field(description="Bits per second.")


class VideoPreview(Shape):
    """The scrubbing previews: a sprite sheet of `count` tiles (`tile_width` x `tile_height`,
    `columns` per row, `rows` rows), one per `interval_seconds`, and its WebVTT thumbnail track
    whose cues name `previews.jpg#xywh=x,y,w,h` (relative: get the track's URL from
    download_url, which serves it through `stream`, where the sprite resolves too)."""

    sprite_path: str = pydantic.Field(description="videos/{video_id}/previews.jpg")
    vtt_path: str = pydantic.Field(description="videos/{video_id}/previews.vtt")
    tile_width: int = pydantic.Field(ge=1)
    tile_height: int = pydantic.Field(ge=1)
    columns: int = pydantic.Field(ge=1)
    rows: int = pydantic.Field(ge=1)
    count: int = pydantic.Field(ge=1)
    interval_seconds: float = pydantic.Field(gt=0)


class VideoResult(Shape):
    video_id: str | None = pydantic.Field(
        default=None, description="The library video videos/{video_id} (the job id); absent before the library."
    )
    duration_seconds: float
    width: int
    height: int
    rotation: int = pydantic.Field(description="Degrees the source asked to be rotated (applied).")
    video_codec: str
    has_audio: bool
    thumbnails: list[str]
    poster: str | None
    renditions: list[VideoRendition]
    mobile_path: str | None = pydantic.Field(
        description="videos/{video_id}/mobile.mp4: H.264 Main, at most 480p, AAC, +faststart (option `mobile`)."
    )
    hls_master_path: str | None = pydantic.Field(
        description="videos/{video_id}/stream/master.m3u8 (option `hls`); play it through download_url."
    )
    dash_manifest_path: str | None = pydantic.Field(
        description="videos/{video_id}/stream/manifest.mpd (option `dash`), the same CMAF segments as HLS."
    )
    preview: VideoPreview | None = pydantic.Field(default=None, description="Option `previews`.")
    warnings: list[str]


class VideoItemResult(Shape):
    """One output of a video: thumbnails, a rendition (with its stream track), the audio track
    or the mobile file; every item also carries the source's probe and the plan's warnings."""

    thumbnails: list[str] | None = None
    poster: str | None = None
    preview: VideoPreview | None = None
    rendition: VideoRendition | None = None
    track: dict[str, Any] | None = pydantic.Field(default=None, description="Internal: the stream track's segments.")
    mobile_path: str | None = None
    probe: dict[str, Any] = pydantic.Field(description="The source as the plan probed it (PyAV).")
    warnings: list[str]


# ---------------------------------------------------------------- scene_asset, mood_board


class SceneAssetResult(Shape):
    kind: AssetKind
    path: str = pydantic.Field(description="projects/{project_id}/scenes/{scene_id}/{kind}/{job_id}.<ext>")
    content_type: str
    size: int = pydantic.Field(ge=0)
    take_id: str | None = pydantic.Field(default=None, description="The take it was kept as (absent before takes).")


class MoodItemResult(Shape):
    mood_id: str
    image_path: str


class MoodBoardResult(Shape):
    succeeded: int = pydantic.Field(ge=0)
    failed: int = pydantic.Field(ge=0)
    moods: list[MoodItemResult]


class StoryboardSceneResult(Shape):
    scene_id: str
    generated: list[AssetKind] = pydantic.Field(description="Kinds this job made for the scene.")
    already_there: list[AssetKind] = pydantic.Field(description="Kinds the scene had before.")
    paths: dict[str, str] = pydantic.Field(description="Storage path per kind made.")
    takes: dict[str, str] = pydantic.Field(default={}, description="Take id per kind made (absent before takes).")


class StoryboardResult(Shape):
    scenes: int = pydantic.Field(ge=0)
    completed_scenes: int = pydantic.Field(ge=0)
    generated: int = pydantic.Field(ge=0, description="Assets made.")
    already_there: int = pydantic.Field(ge=0)
    failed_scenes: list[str] = pydantic.Field(max_length=200, description="Ids of scenes that failed (first 200).")


# ---------------------------------------------------------------- selftest


class SelftestItemResult(Shape):
    index: int
    square: int


class SelftestResult(Shape):
    sum_of_squares: int
    succeeded: int = pydantic.Field(ge=0)
    failed: int = pydantic.Field(ge=0)
