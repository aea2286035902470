"""`video_process` jobs: one uploaded video in; thumbnails, MP4 renditions and HLS out.

    input    {path}
    options  {renditions: [360, 720], hls: true, thumbnails: 3}
    outputs  jobs/{job_id}/video/ (thumb_N.jpg, poster.jpg, {height}p.mp4, hls/master.m3u8 ...)
    result   {duration_seconds, width, height, thumbnails, poster, renditions, hls_master_path, ...}

Work happens in a temporary directory that is always removed; the input is streamed from
Storage to it and outputs are uploaded only once everything succeeded, so a cancelled or
failed job leaves no partial outputs that look finished. A full temp disk (ENOSPC, from our
writes or ffmpeg's, which `ffmpeg` raises as the same OSError) fails the item with `no-space`
in the engine.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import pydantic
from google.api_core import exceptions as gexc

from mediajobs import config, platform
from mediajobs.jobs.kinds import (
    Caller,
    Item,
    ItemCancelled,
    ItemContext,
    ItemFailed,
    ItemSpec,
    JobKind,
    Outcome,
    Summary,
)
from mediajobs.jobs.models import Job
from mediajobs.validation import StrictModel

CONTENT_TYPES = {".jpg": "image/jpeg", ".mp4": "video/mp4", ".m3u8": "application/vnd.apple.mpegurl",
                 ".ts": "video/mp2t"}  # fmt: skip


class VideoInput(StrictModel):
    path: str = pydantic.Field(min_length=1, max_length=1024)

    @pydantic.field_validator("path")
    @classmethod
    def safe(cls, path: str) -> str:
        if path.startswith("/") or ".." in path.split("/") or "\\" in path:
            raise ValueError(f"{path!r} is not a valid storage path")
        return path


class VideoOptions(StrictModel):
    renditions: list[int] = pydantic.Field(default=[360, 720], min_length=1, max_length=5)
    hls: bool = True
    thumbnails: int = pydantic.Field(default=3, ge=0, le=20)

    @pydantic.field_validator("renditions")
    @classmethod
    def heights(cls, values: list[int]) -> list[int]:
        bad = [v for v in values if not 144 <= v <= 2160 or v % 2]
        if bad:
            raise ValueError(f"heights must be even numbers from 144 to 2160, not {bad}")
        return sorted(set(values))


class VideoProcessJob(JobKind):
    job_type: ClassVar[str] = "video_process"
    Input = VideoInput
    Options = VideoOptions
    queue: ClassVar[str] = "videoitems"
    item_timeout_seconds: ClassVar[int] = 1800

    def input_denial(self, caller: Caller, input: VideoInput, options: VideoOptions) -> str | None:
        if not caller.is_admin and not input.path.startswith(f"users/{caller.uid}/"):
            return f"You can only process your own uploads (under users/{caller.uid}/)."
        return None

    def plans_quickly(self, input: VideoInput) -> bool:
        return True  # one item, the video

    def plan(self, job: Job, input: VideoInput, options: VideoOptions) -> Iterable[ItemSpec]:
        yield ItemSpec(id="video", label=input.path.rsplit("/", 1)[-1])

    def process_item(self, ctx: ItemContext, item: Item, input: VideoInput, options: VideoOptions) -> dict[str, Any]:
        from mediajobs.video import ffmpeg

        folder = Path(tempfile.mkdtemp(prefix=f"video-{ctx.job.id}-"))
        try:
            source = folder / "source"
            _download(input.path, source)
            try:
                return _process(ctx, source, folder, input, options)
            except ffmpeg.VideoError as error:
                raise ItemFailed(error.code, error.message) from None
            except ffmpeg.Cancelled:
                raise ItemCancelled() from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        records = list(summary.items())
        outcome = super().finalize(job, summary)
        result = dict(records[0].result or {}) if records and records[0].status == "done" else {}
        return Outcome(result, records[0].error if records and records[0].status == "failed" else outcome.error)


def _download(path: str, target: Path) -> None:
    blob = platform.bucket().get_blob(path)
    if blob is None:
        raise ItemFailed("input-missing", f"{path} is not in Storage.")
    limit = config.VIDEO_MAX_MB.value * 1024 * 1024
    if (blob.size or 0) > limit:
        raise ItemFailed("too-large", f"{path} is {blob.size:,} bytes; the limit is {config.VIDEO_MAX_MB.value} MB.")
    try:
        blob.download_to_filename(str(target))  # streamed to disk in chunks
    except gexc.NotFound:
        raise ItemFailed("input-missing", f"{path} is not in Storage.") from None


def _process(ctx: ItemContext, source: Path, folder: Path, input: VideoInput, options: VideoOptions) -> dict[str, Any]:
    from mediajobs.video import ffmpeg

    name = input.path.rsplit("/", 1)[-1]
    info = ffmpeg.probe(source, name)
    if info.duration_seconds > config.VIDEO_MAX_SECONDS.value:
        raise ItemFailed(
            "too-long", f"{name} lasts {info.duration_seconds:.0f}s; the limit is {config.VIDEO_MAX_SECONDS.value}s."
        )
    if info.duration_seconds <= 0:
        raise ItemFailed("corrupt-video", f"{name} has no frames to process.")
    heights = [h for h in options.renditions if h <= info.height] or [info.height - info.height % 2]
    warnings = [f"skipped {h}p: above the source's {info.height}p" for h in options.renditions if h > info.height]
    out = folder / "out"
    out.mkdir()
    weights = {"thumbs": 0.05, "hls": 0.1 if options.hls else 0.0}
    total_pixels = sum(heights)
    done = 0.0

    def report(share: float) -> Any:
        return lambda fraction: ctx.heartbeat(min(0.99, done + share * fraction))

    thumbs = []
    for index in range(options.thumbnails):
        at = info.duration_seconds * (index + 1) / (options.thumbnails + 1)
        target = out / f"thumb_{index + 1}.jpg"
        ffmpeg.thumbnail(source, at, target)
        thumbs.append(target)
    ffmpeg.thumbnail(source, min(1.0, info.duration_seconds / 2), out / "poster.jpg", width=320)
    done += weights["thumbs"]
    renditions = []
    for height in heights:
        share = (1 - weights["thumbs"] - weights["hls"]) * height / total_pixels
        target = out / f"{height}p.mp4"
        ffmpeg.run_with_progress(ffmpeg.rendition_args(source, target, height, info.has_audio), info.duration_seconds,
                                 report(share), ctx.cancelled)  # fmt: skip
        done += share
        bitrate = round(target.stat().st_size * 8 / info.duration_seconds)
        width = round(info.width * height / info.height / 2) * 2
        renditions.append((height, width, bitrate, target))
    if options.hls:
        for height, _, _, mp4 in renditions:
            variant = out / "hls" / f"{height}p"
            variant.mkdir(parents=True)
            ffmpeg.run_with_progress(ffmpeg.hls_args(mp4, variant), info.duration_seconds,
                                     report(weights["hls"] / len(renditions)), ctx.cancelled)  # fmt: skip
        (out / "hls" / "master.m3u8").write_text(ffmpeg.master_playlist([(h, w, b) for h, w, b, _ in renditions]))
    if ctx.cancelled():
        raise ffmpeg.Cancelled()
    prefix = f"jobs/{ctx.job.id}/video"
    _upload_tree(out, prefix)
    return {
        "duration_seconds": round(info.duration_seconds, 3),
        "width": info.width,
        "height": info.height,
        "rotation": info.rotation,
        "video_codec": info.video_codec,
        "has_audio": info.has_audio,
        "thumbnails": [f"{prefix}/{t.name}" for t in thumbs],
        "poster": f"{prefix}/poster.jpg",
        "renditions": [
            {"height": h, "width": w, "path": f"{prefix}/{h}p.mp4", "bitrate": b} for h, w, b, _ in renditions
        ],
        "mobile_path": f"{prefix}/{heights[0]}p.mp4",
        "hls_master_path": f"{prefix}/hls/master.m3u8" if options.hls else None,
        "warnings": warnings,
    }


def _upload_tree(folder: Path, prefix: str) -> None:
    bucket = platform.bucket()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        bucket.blob(f"{prefix}/{relative}").upload_from_filename(
            str(path), content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        )
