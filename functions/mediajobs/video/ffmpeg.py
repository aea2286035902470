"""The bundled ffmpeg (imageio-ffmpeg): thumbnails, renditions, the mobile encode, CMAF packaging.

Plain functions over files; nothing here knows Firebase. Long commands report progress from
ffmpeg's own `-progress` output and stop promptly when asked to.

Every builder takes `max_seconds`, the duration the plan probed: it becomes an input `-t`
(`input_bound`) so that ffmpeg reads no more than that (plus a small margin) of its input,
whatever the file turns out to hold. A file longer than its probe cannot run longer than the
plan's time estimate.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from mediajobs.video.packaging import INIT_NAME, MEDIA_TEMPLATE
from mediajobs.video.probe import VideoError

__all__ = ["Cancelled", "VideoError", "executable", "input_bound", "run_with_progress", "thumbnail"]

BITRATES_KBPS = {144: 200, 240: 400, 360: 800, 480: 1400, 540: 2000, 720: 2800, 1080: 5000, 1440: 9000, 2160: 16000}
SEGMENT_SECONDS = 2
FAST_PRESET_ABOVE = 720  # taller renditions use x264's superfast preset (see docs/SCALING.md)
MOBILE_SHORT_SIDE = 480
MOBILE_VIDEO_KBPS = 800
MOBILE_AUDIO = ["-c:a", "aac", "-profile:a", "aac_low", "-b:a", "64k", "-ac", "2", "-ar", "44100"]
# How much longer than its probed duration ffmpeg may read an input: rounding of the
# container's duration, an audio stream a few frames longer than the video.
BOUND_MARGIN_SECONDS = 1.0
BOUND_MARGIN_RATIO = 0.01


class Cancelled(Exception):
    """Stopped on request; ffmpeg was terminated."""


def executable() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][-200:] if lines else "no details"


def run_with_progress(
    args: list[str], duration: float, on_progress: Callable[[float], None], cancelled: Callable[[], bool]
) -> None:
    """Runs ffmpeg, reporting done/duration from its -progress output; terminates it on cancel."""
    command = [executable(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-progress", "pipe:1", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if cancelled():
                process.terminate()
                raise Cancelled()
            if line.startswith("out_time_us=") and duration > 0:
                value = line.split("=", 1)[1].strip()
                if value.isdigit():
                    on_progress(min(1.0, int(value) / 1e6 / duration))
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        error = process.stderr.read() if process.stderr else ""
        _raise_if_out_of_space(error)
        raise VideoError("transcode-failed", f"ffmpeg failed: {_last_line(error)}")


def _raise_if_out_of_space(stderr: str) -> None:
    """ffmpeg's ENOSPC as the OSError a Python write would raise, so callers handle both alike."""
    if "No space left on device" in stderr:
        raise OSError(errno.ENOSPC, f"No space left on device (ffmpeg: {_last_line(stderr)})")


def input_bound(max_seconds: float | None) -> list[str]:
    """`-t` for the next `-i`: read at most `max_seconds` (the probed duration) plus a margin."""
    if max_seconds is None:
        return []
    seconds = max(0.0, max_seconds) * (1 + BOUND_MARGIN_RATIO) + BOUND_MARGIN_SECONDS
    return ["-t", f"{seconds:.3f}"]


def _run_yielding_to_encodes(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """subprocess.run at a lower priority: where items share cores (locally), a still waits for
    the renditions. The priority is set on the started process, not in a preexec_fn: that makes
    Python fork the worker, gRPC's threads included, and gRPC's fork handlers in the child
    failed a still in CI."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        with contextlib.suppress(OSError):  # it may have ended already
            os.setpriority(os.PRIO_PROCESS, process.pid, 10)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def thumbnail_args(
    source: Path, at_seconds: float, out: Path, width: int | None = None, *, max_seconds: float | None = None
) -> list[str]:
    """One JPEG frame at `at_seconds`; ffmpeg reads at most the rest of the probed duration."""
    scale = ["-vf", f"scale={width}:-2"] if width else []
    rest = None if max_seconds is None else max_seconds - at_seconds
    return [
        "-ss", f"{at_seconds:.3f}", *input_bound(rest), "-i", str(source),
        "-frames:v", "1", *scale, "-q:v", "3", str(out),
    ]  # fmt: skip


def thumbnail(
    source: Path, at_seconds: float, out: Path, width: int | None = None, *, max_seconds: float | None = None
) -> None:
    args = thumbnail_args(source, at_seconds, out, width, max_seconds=max_seconds)
    run = _run_yielding_to_encodes(
        [executable(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], timeout=120
    )
    if run.returncode != 0 or not out.exists():
        _raise_if_out_of_space(run.stderr)
        raise VideoError("thumbnail-failed", f"Could not take a frame at {at_seconds:.1f}s: {_last_line(run.stderr)}")


def sprite_args(
    source: Path, out: Path, interval: float, tile: tuple[int, int], grid: tuple[int, int], *, max_seconds: float
) -> list[str]:
    """The scrubbing sprite: a frame every `interval` s (fps), each scaled to `tile` (scale), laid
    out `grid` columns x rows in one JPEG (tile; a short video leaves the last tiles blank)."""
    (width, height), (columns, rows) = tile, grid
    chain = f"fps=1/{interval:.6f},scale={width}:{height}:flags=bicubic,tile={columns}x{rows}"
    return [
        *input_bound(max_seconds), "-i", str(source), "-map", "0:v:0", "-an",
        "-vf", chain, "-frames:v", "1", "-q:v", "4", str(out),
    ]  # fmt: skip


def sprite(
    source: Path, out: Path, interval: float, tile: tuple[int, int], grid: tuple[int, int], *, max_seconds: float
) -> None:
    args = sprite_args(source, out, interval, tile, grid, max_seconds=max_seconds)
    run = _run_yielding_to_encodes(
        [executable(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], timeout=600
    )
    if run.returncode != 0 or not out.exists():
        _raise_if_out_of_space(run.stderr)
        raise VideoError("thumbnail-failed", f"Could not draw the preview sprite: {_last_line(run.stderr)}")


def preset_for(height: int) -> str:
    return "superfast" if height > FAST_PRESET_ABOVE else "veryfast"


def _keyframes() -> list[str]:
    """A keyframe exactly every segment, no others, so every rendition splits at the same times."""
    return ["-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})", "-sc_threshold", "0"]


def rendition_args(
    source: Path, out: Path, height: int, has_audio: bool, *, max_seconds: float | None = None
) -> list[str]:
    """H.264/AAC MP4 at `height` (rotation applied by ffmpeg), keyframes every segment, faststart."""
    video_kbps = BITRATES_KBPS.get(height) or max(BITRATES_KBPS[k] for k in BITRATES_KBPS if k <= max(height, 144))
    audio = ["-c:a", "aac", "-b:a", "96k" if height <= 360 else "128k", "-ac", "2"] if has_audio else ["-an"]
    return [
        *input_bound(max_seconds), "-i", str(source), "-map", "0:v:0", *(["-map", "0:a:0"] if has_audio else []),
        "-vf", f"scale=-2:{height}:flags=bicubic,format=yuv420p",
        "-c:v", "libx264", "-preset", preset_for(height), "-profile:v", "high",
        "-b:v", f"{video_kbps}k", "-maxrate", f"{int(video_kbps * 1.5)}k", "-bufsize", f"{video_kbps * 2}k",
        *_keyframes(), *audio, "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def mobile_args(
    source: Path, out: Path, landscape: bool, short_side: int, has_audio: bool, *, max_seconds: float | None = None
) -> list[str]:
    """For phones: H.264 Main (level 3.1, what every phone decodes in hardware), the short side
    at most 480, 800 kb/s video, 64 kb/s stereo AAC-LC, moov first (+faststart) so playback
    starts before the download ends."""
    scale = f"scale=-2:{short_side}" if landscape else f"scale={short_side}:-2"
    audio = ["-map", "0:a:0", *MOBILE_AUDIO] if has_audio else ["-an"]
    return [
        *input_bound(max_seconds), "-i", str(source), "-map", "0:v:0", *audio,
        "-vf", f"{scale}:flags=bicubic,format=yuv420p",
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-level:v", "3.1",
        "-b:v", f"{MOBILE_VIDEO_KBPS}k", "-maxrate", f"{MOBILE_VIDEO_KBPS * 5 // 4}k",
        "-bufsize", f"{MOBILE_VIDEO_KBPS * 2}k", "-g", "60", "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def _dash_output(folder: Path) -> list[str]:
    return [
        "-f", "dash", "-seg_duration", str(SEGMENT_SECONDS), "-use_template", "1", "-use_timeline", "1",
        "-init_seg_name", INIT_NAME, "-media_seg_name", MEDIA_TEMPLATE, str(folder / "manifest.mpd"),
    ]  # fmt: skip


def package_video_args(rendition: Path, folder: Path, *, max_seconds: float | None = None) -> list[str]:
    """The rendition's video as CMAF segments, without re-encoding (keyframes already align)."""
    bound = input_bound(max_seconds)
    return [*bound, "-i", str(rendition), "-map", "0:v:0", "-c", "copy", *_dash_output(folder)]


def audio_track_args(source: Path, folder: Path, *, max_seconds: float | None = None) -> list[str]:
    """The source's audio as one AAC-LC stereo CMAF track shared by every video rendition."""
    return [
        *input_bound(max_seconds), "-i", str(source),
        "-map", "0:a:0", "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000", *_dash_output(folder),
    ]  # fmt: skip
