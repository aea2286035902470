"""`video_process` jobs: one uploaded video in; thumbnails, MP4 renditions, a mobile encode and
HLS + DASH over shared CMAF segments out.

    input    {path}
    options  {renditions: [360, 720], hls: true, dash: true, thumbnails: 3, mobile: true}
    outputs  videos/{video_id}/  thumb_N.jpg, poster.jpg, {height}p.mp4, mobile.mp4,
             previews.jpg + previews.vtt (the scrubbing sprite and its WebVTT thumbnail track),
             stream/master.m3u8, stream/manifest.mpd, stream/{720p,audio}/{index.m3u8,init.mp4,seg_N.m4s}
    result   VideoResult (models.py), with the `video_id`
    record   videos/{video_id} (library.py): the video id is the job id

The outputs are the video library's (library.py): they live under videos/{video_id}/, which no
lifecycle rule expires, and the record is created `processing` by the plan, filled `ready` by
finalize, and marked `failed` or `cancelled` when the job ends so (`on_job_change`).

Planning probes the video where it lies (PyAV over ranged Storage reads) and refuses it there
(not a video, truncated, too long, too large). Every output is then its own item, run in
parallel on the `videoitems` queue: the thumbnails, each rendition (MP4, then its video as CMAF
segments), the audio track, the mobile encode. Each item works in a temporary folder that is
always removed and uploads only once its ffmpeg work succeeded. `finalize`, once every item
has settled, writes the HLS master and DASH manifest (both over the same segments) and the
result; if anything failed or the job was cancelled it deletes what the items uploaded, so
nothing partial ever looks finished. A full temp disk fails the item with `no-space`.

What was probed is what the items process. The plan records the object's generation and every
item downloads that generation only: the owner may overwrite an upload at any time, and a video
replaced after planning fails each item with `source-changed` instead of reaching ffmpeg
unchecked (a longer, larger file than the limits and the time estimate allowed). Every ffmpeg
run also reads at most the probed duration (`ffmpeg.input_bound`), whatever its input holds.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from google.api_core import exceptions as gexc

from mediajobs import cloud, config
from mediajobs.jobs.kinds import (
    Caller,
    Item,
    ItemCancelled,
    ItemContext,
    ItemFailed,
    ItemSpec,
    JobFailed,
    JobKind,
    Outcome,
    Summary,
)
from mediajobs.jobs.models import ErrorInfo, Job
from mediajobs.video import budget, library
from mediajobs.video.models import Preview, Rendition, Track, VideoInput, VideoOptions, VideoResult
from mediajobs.video.probe import Probe, VideoError

CONTENT_TYPES = {".jpg": "image/jpeg", ".mp4": "video/mp4", ".m4s": "video/iso.segment", ".vtt": "text/vtt",
                 ".m3u8": "application/vnd.apple.mpegurl", ".mpd": "application/dash+xml"}  # fmt: skip
PROBE_READ_CHUNK = 1024 * 1024  # ranged reads while probing in Storage


class VideoProcessJob(JobKind):
    job_type: ClassVar[str] = "video_process"
    Input = VideoInput
    Options = VideoOptions
    queue: ClassVar[str] = "videoitems"
    item_timeout_seconds: ClassVar[int] = budget.ITEM_DEADLINE_SECONDS

    def input_denial(self, caller: Caller, input: VideoInput, options: VideoOptions) -> str | None:
        if not caller.is_admin and not input.path.startswith(f"users/{caller.uid}/"):
            return f"You can only process your own uploads (under users/{caller.uid}/)."
        return None

    def plans_quickly(self, input: VideoInput) -> bool:
        return True  # a probe over a few ranged reads, and at most nine items

    def on_job_change(self, job_id: str, job: dict[str, Any]) -> None:
        status = job.get("status")
        if status in (library.VideoStatus.FAILED, library.VideoStatus.CANCELLED):
            error = job.get("error") if isinstance(job.get("error"), dict) else None
            library.mark_ended(job_id, str(status), error)

    def plan(self, job: Job, input: VideoInput, options: VideoOptions) -> Iterable[ItemSpec]:
        try:
            yield from self._plan(job, input, options)
        except JobFailed as failure:  # the record says so before the job does
            library.mark_ended(job.id, library.VideoStatus.FAILED, {"code": failure.code, "message": failure.message})
            raise

    def _plan(self, job: Job, input: VideoInput, options: VideoOptions) -> Iterable[ItemSpec]:
        name = input.path.rsplit("/", 1)[-1]
        blob = cloud.bucket().get_blob(input.path)
        library.create_processing(
            job.id, owner_uid=job.owner_uid, job_id=job.id, source=input.path, title=input.title or name,
            size=int(blob.size or 0) if blob is not None else 0,
        )  # fmt: skip
        if blob is None:
            raise JobFailed("input-missing", f"{input.path} is not in Storage.")
        limit = config.VIDEO_MAX_MB.value * 1024 * 1024
        if (blob.size or 0) > limit:
            raise JobFailed("too-large", f"{name} is {blob.size:,} bytes; the limit is {config.VIDEO_MAX_MB.value} MB.")
        info = _probe_in_storage(blob, name)  # reads the generation get_blob saw (or fails)
        if info.duration_seconds > config.VIDEO_MAX_SECONDS.value:
            raise JobFailed(
              "too-long", f"{name} lasts {info.duration_seconds:.0f}s; the limit is {config.VIDEO_MAX_SECONDS.value}s."
            )  # fmt: skip
        heights, warnings = _heights(info, options, int(blob.size or 0))
        common = {"probe": info.as_payload(), "warnings": warnings, "generation": blob.generation}
        yield ItemSpec(id="thumbnails", label=f"{name}: thumbnails", payload={"task": "thumbnails", **common})
        for height in heights:
            payload = {"task": "rendition", "height": height, **common}
            yield ItemSpec(id=f"r{height:04d}", label=f"{name}: {height}p", payload=payload)
        if options.streaming and info.has_audio:
            yield ItemSpec(id="audio", label=f"{name}: audio track", payload={"task": "audio", **common})
        if options.mobile:
            yield ItemSpec(id="mobile", label=f"{name}: mobile", payload={"task": "mobile", **common})

    def process_item(self, ctx: ItemContext, item: Item, input: VideoInput, options: VideoOptions) -> dict[str, Any]:
        from mediajobs.video import ffmpeg

        info = Probe.from_payload(item.payload["probe"])
        generation = item.payload.get("generation")  # absent in items planned before pinning
        folder = Path(tempfile.mkdtemp(prefix=f"video-{ctx.job.id}-"))
        try:
            source = folder / "source"
            _download(input.path, int(generation) if generation is not None else None, source)
            out = folder / "out"
            out.mkdir()
            work = _Work(ctx, info, source, out, library.prefix(ctx.job.id).rstrip("/"))
            try:
                result = TASKS[str(item.payload["task"])](work, item, options)
            except VideoError as error:
                raise ItemFailed(error.code, error.message) from None
            except ffmpeg.Cancelled:
                raise ItemCancelled() from None
            return {**result, "probe": item.payload["probe"], "warnings": item.payload.get("warnings", [])}
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        records = list(summary.items())
        if [r.id for r in records] == ["video"]:  # planned before items were per output (one item)
            only = records[0]
            return Outcome(dict(only.result or {}) if only.status == "done" else {}, only.error)
        prefix = library.prefix(job.id)
        failed = next((r for r in records if r.status == "failed"), None)
        if failed is not None or summary.cancelled or any(r.status != "done" for r in records) or not records:
            _delete_outputs(prefix)  # a video is whole or nothing: no partial outputs
            error = failed.error if failed is not None else None
            if failed is not None and error is None:
                error = ErrorInfo(code="internal", message=f"{failed.label} failed.")
            if error is not None:
                library.mark_ended(job.id, library.VideoStatus.FAILED, error.model_dump(exclude_none=True))
            return Outcome({}, error)
        options = VideoOptions.model_validate(job.options)
        results = {r.id: r.result or {} for r in records}
        result = _summarize(prefix, results, options, job.id)
        if not library.update_existing(job.id, library.ready_fields(result)):
            _delete_outputs(prefix)  # its owner deleted the video while it was being made
            return Outcome({}, ErrorInfo(code="video-deleted", message="The video was deleted while it was processed."))
        return Outcome(result.model_dump())


def _probe_in_storage(blob: Any, name: str) -> Probe:
    from mediajobs.video.probe import probe

    # Storage's mediaLink names the generation get_blob read, and the precondition makes a
    # replacement during the probe fail rather than mix two files (fake-gcs-server ignores both).
    try:
        with blob.open("rb", chunk_size=PROBE_READ_CHUNK, if_generation_match=blob.generation) as reader:
            return probe(reader, name)
    except VideoError as error:
        raise JobFailed(error.code, error.message) from None
    except gexc.PreconditionFailed:
        raise JobFailed("source-changed", _replaced(name)) from None
    except gexc.NotFound:
        raise JobFailed("input-missing", f"{blob.name} is not in Storage.") from None


def _heights(info: Probe, options: VideoOptions, source_bytes: int) -> tuple[list[int], list[str]]:
    """The renditions to make: requested ones up to the source's height (else one at the
    source's), minus those that could not finish inside the item deadline."""
    from mediajobs.video.ffmpeg import preset_for

    warnings = [f"skipped {h}p: above the source's {info.height}p" for h in options.renditions if h > info.height]
    heights = [h for h in options.renditions if h <= info.height] or [info.height - info.height % 2]
    kept = []
    for height in heights:
        width = round(info.width * height / info.height)
        seconds = budget.rendition_seconds(
            info.duration_seconds, (info.width, info.height), (width, height), preset_for(height), source_bytes
        )
        if budget.fits(seconds):
            kept.append(height)
        else:
            warnings.append(f"skipped {height}p: about {seconds:.0f}s of work, more than one task may take")
    if not kept:
        raise JobFailed("too-long", f"Even {heights[0]}p of this video would not finish inside one task's deadline.")
    return kept, warnings


def _download(path: str, generation: int | None, target: Path) -> None:
    """The source as planned: the generation the plan probed, never a later upload to `path`."""
    bucket = cloud.bucket()
    try:
        bucket.blob(path, generation=generation).download_to_filename(str(target))  # streamed to disk
    except gexc.NotFound:
        current = bucket.get_blob(path) if generation is not None else None
        if current is not None and current.generation != generation:
            raise ItemFailed("source-changed", _replaced(path.rsplit("/", 1)[-1])) from None
        raise ItemFailed("input-missing", f"{path} is not in Storage.") from None


def _replaced(name: str) -> str:
    return f"{name} was replaced after this job started; start a new job to process the new video."


class _Work:
    """One item's situation: the probe, its temp files, where its outputs go, progress."""

    def __init__(self, ctx: ItemContext, info: Probe, source: Path, out: Path, prefix: str) -> None:
        self.ctx, self.info, self.source, self.out, self.prefix = ctx, info, source, out, prefix

    def encode(self, args: list[str], start: float, share: float) -> None:
        from mediajobs.video import ffmpeg

        def report(fraction: float) -> None:
            self.ctx.heartbeat(min(0.99, start + share * fraction))

        ffmpeg.run_with_progress(args, self.info.duration_seconds, report, self.ctx.cancelled)

    def upload(self) -> None:
        from mediajobs.video import ffmpeg

        if self.ctx.cancelled():
            raise ffmpeg.Cancelled()
        bucket = cloud.bucket()
        for path in sorted(p for p in self.out.rglob("*") if p.is_file()):
            relative = path.relative_to(self.out).as_posix()
            bucket.blob(f"{self.prefix}/{relative}").upload_from_filename(
                str(path), content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream")
            )

    def package(self, args: Callable[[Path], list[str]], name: str, start: float) -> Track:
        """Runs ffmpeg's DASH muxer into stream/{name}/ and keeps the track and its HLS playlist."""
        from mediajobs.video import packaging

        folder = self.out / "stream" / name
        folder.mkdir(parents=True)
        self.encode(args(folder), start, 1 - start)
        track = packaging.read_track(folder / "manifest.mpd", name)
        (folder / "manifest.mpd").unlink()  # the job's manifest is written by finalize
        (folder / "index.m3u8").write_text(packaging.media_playlist(track))
        return track


def _thumbnails(work: _Work, item: Item, options: VideoOptions) -> dict[str, Any]:
    from mediajobs.video import ffmpeg

    duration = work.info.duration_seconds
    names = []
    for index in range(options.thumbnails):
        target = work.out / f"thumb_{index + 1}.jpg"
        at = duration * (index + 1) / (options.thumbnails + 1)
        ffmpeg.thumbnail(work.source, at, target, max_seconds=duration)
        names.append(target.name)
        work.ctx.heartbeat((index + 1) / (options.thumbnails + 1))
    ffmpeg.thumbnail(work.source, min(1.0, duration / 2), work.out / "poster.jpg", width=320, max_seconds=duration)
    preview = _preview(work) if options.previews else None
    work.upload()
    return {"thumbnails": [f"{work.prefix}/{n}" for n in names], "poster": f"{work.prefix}/poster.jpg",
            "preview": preview.model_dump() if preview else None}  # fmt: skip


def _preview(work: _Work) -> Preview:
    """The scrubbing sprite and its WebVTT thumbnail track, from one layout."""
    from mediajobs.video import ffmpeg, previews

    info = work.info
    sprite = previews.layout(info.duration_seconds, info.width, info.height)
    tile, grid = (sprite.tile_width, sprite.tile_height), (sprite.columns, sprite.rows)
    ffmpeg.sprite(work.source, work.out / previews.SPRITE_NAME, sprite.interval_seconds, tile, grid,
                  max_seconds=info.duration_seconds)  # fmt: skip
    (work.out / previews.TRACK_NAME).write_text(previews.thumbnail_track(sprite, info.duration_seconds))
    return Preview(
        sprite_path=f"{work.prefix}/{previews.SPRITE_NAME}",
        vtt_path=f"{work.prefix}/{previews.TRACK_NAME}",
        tile_width=sprite.tile_width,
        tile_height=sprite.tile_height,
        columns=sprite.columns,
        rows=sprite.rows,
        count=sprite.count,
        interval_seconds=round(sprite.interval_seconds, 3),
    )


def _rendition(work: _Work, item: Item, options: VideoOptions) -> dict[str, Any]:
    from mediajobs.video import ffmpeg, probe

    height = int(item.payload["height"])
    mp4 = work.out / f"{height}p.mp4"
    share = 0.9 if options.streaming else 1.0
    bound = work.info.duration_seconds
    work.encode(ffmpeg.rendition_args(work.source, mp4, height, work.info.has_audio, max_seconds=bound), 0.0, share)
    work.source.unlink()  # the temp disk is memory: the segments take the source's place
    written = probe.probe(mp4, mp4.name)
    bitrate = round(mp4.stat().st_size * 8 / max(written.duration_seconds, 0.001))
    track = None
    if options.streaming:
        track = work.package(partial(ffmpeg.package_video_args, mp4, max_seconds=bound), f"{height}p", share)
    work.upload()
    rendition = Rendition(height=height, width=written.width, path=f"{work.prefix}/{mp4.name}", bitrate=bitrate)
    return {"rendition": rendition.model_dump(), "track": track.model_dump() if track else None}


def _audio(work: _Work, item: Item, options: VideoOptions) -> dict[str, Any]:
    from mediajobs.video import ffmpeg

    bound = work.info.duration_seconds
    track = work.package(partial(ffmpeg.audio_track_args, work.source, max_seconds=bound), "audio", 0.0)
    work.upload()
    return {"track": track.model_dump()}


def _mobile(work: _Work, item: Item, options: VideoOptions) -> dict[str, Any]:
    from mediajobs.video import ffmpeg

    info = work.info
    short_side = min(ffmpeg.MOBILE_SHORT_SIDE, info.width, info.height)
    short_side -= short_side % 2
    target = work.out / "mobile.mp4"
    landscape = info.width >= info.height
    args = ffmpeg.mobile_args(
        work.source, target, landscape, short_side, info.has_audio, max_seconds=info.duration_seconds
    )
    work.encode(args, 0.0, 1.0)
    work.upload()
    return {"mobile_path": f"{work.prefix}/{target.name}"}


TASKS: dict[str, Callable[[_Work, Item, VideoOptions], dict[str, Any]]] = {
    "thumbnails": _thumbnails,
    "rendition": _rendition,
    "audio": _audio,
    "mobile": _mobile,
}


def _summarize(prefix: str, results: dict[str, dict[str, Any]], options: VideoOptions, video_id: str) -> VideoResult:
    """Writes the stream manifests from the tracks and returns the job's result."""
    from mediajobs.video import packaging

    info = Probe.from_payload(next(iter(results.values()))["probe"])
    renditions = sorted((Rendition.model_validate(r["rendition"]) for r in results.values() if r.get("rendition")),
                        key=lambda r: r.height)  # fmt: skip
    tracks = [Track.model_validate(r["track"]) for r in results.values() if r.get("track")]
    bucket = cloud.bucket()
    hls_path = dash_path = None
    if options.hls and tracks:
        hls_path = f"{prefix}stream/master.m3u8"
        bucket.blob(hls_path).upload_from_string(packaging.master_playlist(tracks), content_type=CONTENT_TYPES[".m3u8"])
    if options.dash and tracks:
        dash_path = f"{prefix}stream/manifest.mpd"
        manifest = packaging.dash_manifest(tracks, info.duration_seconds)
        bucket.blob(dash_path).upload_from_string(manifest, content_type=CONTENT_TYPES[".mpd"])
    thumbs = results.get("thumbnails", {})
    preview = Preview.model_validate(thumbs["preview"]) if thumbs.get("preview") else None
    return VideoResult(
        video_id=video_id,
        duration_seconds=round(info.duration_seconds, 3),
        width=info.width,
        height=info.height,
        rotation=info.rotation,
        video_codec=info.video_codec,
        has_audio=info.has_audio,
        thumbnails=list(thumbs.get("thumbnails", [])),
        poster=thumbs.get("poster"),
        renditions=renditions,
        mobile_path=results.get("mobile", {}).get("mobile_path"),
        hls_master_path=hls_path,
        dash_manifest_path=dash_path,
        preview=preview,
        warnings=list(next(iter(results.values())).get("warnings", [])),
    )


def _delete_outputs(prefix: str) -> None:
    bucket = cloud.bucket()
    blobs = list(bucket.list_blobs(prefix=prefix))
    if blobs:
        bucket.delete_blobs(blobs, on_error=lambda blob: None)
