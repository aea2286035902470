"""Thumbnails on request: `video_thumbnail` returns a still of a library video at the time and
width the caller picks, cached in Storage beside the video's other objects:

    videos/{video_id}/stills/{milliseconds}ms-{width}w.jpg

The same request again finds the object and runs no ffmpeg; two first requests at once both
draw it, and the upload that is not first (`if_generation_match=0`) keeps the one stored. The
frame comes from the video's own files (the smallest rendition at least as wide as asked, else
the widest; the mobile encode when there is none), so a still never needs the upload and is
never wider than the video (a wider request is answered at the video's width). The folder is
removed with the video by `delete_video`.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import pydantic
from firebase_functions import https_fn, logger
from google.api_core import exceptions as gexc

from mediajobs import cloud
from mediajobs.jobs.api import Code, caller_of, parse
from mediajobs.object_urls import URL_LIFETIME, url_for
from mediajobs.validation import StrictModel

MIN_WIDTH = 64
MAX_WIDTH = 1920
FOLDER = "stills"


class VideoThumbnail(StrictModel):
    video_id: str = pydantic.Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    at_seconds: float = pydantic.Field(ge=0, allow_inf_nan=False, description="Time of the frame, within the video.")
    width: int = pydantic.Field(
        ge=MIN_WIDTH, le=MAX_WIDTH, description="Pixels; a still is never wider than the video (then its width)."
    )


def still_path(video_id: str, at_ms: int, width: int) -> str:
    return f"videos/{video_id}/{FOLDER}/{at_ms}ms-{width}w.jpg"


def frame_source(record: dict[str, Any], width: int) -> tuple[str, int]:
    """The video's file to take the frame from and the still's width (capped at that file's):
    the smallest rendition at least `width` wide, else the widest, else the mobile encode."""
    renditions = sorted(
        (r for r in record.get("renditions") or [] if r.get("path") and r.get("width")), key=lambda r: int(r["width"])
    )
    wide_enough = [r for r in renditions if int(r["width"]) >= width]
    if wide_enough:
        return str(wide_enough[0]["path"]), width
    if renditions:
        widest = renditions[-1]
        return str(widest["path"]), min(width, int(widest["width"]))
    mobile = record.get("mobile_path")
    if mobile:
        cap = int(record.get("width") or width)
        return str(mobile), min(width, cap)
    raise https_fn.HttpsError(Code.FAILED_PRECONDITION, "This video has no rendition to take a still from.")


def checked_time(record: dict[str, Any], at_seconds: float) -> int:
    """The time in whole milliseconds, refused beyond the video's end."""
    duration = float(record.get("duration_seconds") or 0)
    if at_seconds > duration:
        raise https_fn.HttpsError(
            Code.INVALID_ARGUMENT, f"at_seconds must be within the video: 0 to {duration:.3f} (got {at_seconds:g})."
        )
    # the very last instant has no frame to decode: step back to the last frame's neighbourhood
    return max(0, min(round(at_seconds * 1000), round(duration * 1000) - 50))


def video_thumbnail(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """{video_id, at_seconds, width} -> {path, url, width, at_seconds, expires_in, cached}."""
    from mediajobs.video import library

    caller = caller_of(req)
    request = parse(VideoThumbnail, req.data)
    if not library.readable(caller, request.video_id):
        raise https_fn.HttpsError(Code.NOT_FOUND, f"Video {request.video_id} does not exist or is not yours.")
    record = library.video_ref(request.video_id).get().to_dict() or {}
    if record.get("status") != library.VideoStatus.READY:
        raise https_fn.HttpsError(Code.FAILED_PRECONDITION, "Stills are taken from a ready video; wait until it is.")
    at_ms = checked_time(record, request.at_seconds)
    source, width = frame_source(record, request.width)
    path = still_path(request.video_id, at_ms, width)
    bucket = cloud.bucket()
    blob = bucket.get_blob(path)
    cached = blob is not None
    if blob is None:
        blob = _draw(
            bucket,
            source,
            path,
            at_seconds=at_ms / 1000,
            width=width,
            duration=float(record.get("duration_seconds") or 0),
        )
    logger.info("video still", video_id=request.video_id, path=path, cached=cached)
    return {
        "path": path,
        "url": url_for(blob, disposition="inline"),
        "width": width,
        "at_seconds": at_ms / 1000,
        "expires_in": int(URL_LIFETIME.total_seconds()),
        "cached": cached,
    }


def _draw(bucket: Any, source: str, path: str, *, at_seconds: float, width: int, duration: float) -> Any:
    """Draws the still from `source` and stores it unless another request stored it first."""
    from mediajobs.video import ffmpeg

    with tempfile.TemporaryDirectory(prefix="still-") as folder:
        local, out = Path(folder) / "source.mp4", Path(folder) / "still.jpg"
        source_blob = bucket.get_blob(source)
        if source_blob is None:
            raise https_fn.HttpsError(Code.FAILED_PRECONDITION, f"The video's file {source} is missing.")
        source_blob.download_to_filename(str(local))
        try:
            ffmpeg.thumbnail(local, at_seconds, out, width, max_seconds=duration)
        except ffmpeg.VideoError as error:
            raise https_fn.HttpsError(Code.FAILED_PRECONDITION, f"Could not take the still: {error}") from None
        blob = bucket.blob(path)
        with contextlib.suppress(gexc.PreconditionFailed):  # a concurrent request stored it first: keep that
            blob.upload_from_filename(str(out), content_type="image/jpeg", if_generation_match=0)
    stored = bucket.get_blob(path)
    if stored is None:
        raise https_fn.HttpsError(Code.ABORTED, "The still was removed while it was stored; try again.")
    return stored
