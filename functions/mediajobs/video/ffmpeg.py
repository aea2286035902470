"""The bundled ffmpeg (imageio-ffmpeg): probing, thumbnails, renditions and HLS.

Plain functions over files; nothing here knows Firebase. Long commands report progress from
ffmpeg's own `-progress` output and stop promptly when asked to.
"""

from __future__ import annotations

import dataclasses
import errno
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from mediajobs.errors import CodedError

BITRATES_KBPS = {144: 200, 240: 400, 360: 800, 480: 1400, 540: 2000, 720: 2800, 1080: 5000, 1440: 9000, 2160: 16000}
SEGMENT_SECONDS = 2


class VideoError(CodedError):
    """The video cannot be processed; a clear code and message for the item."""


class Cancelled(Exception):
    """Stopped on request; ffmpeg was terminated."""


@dataclasses.dataclass(frozen=True)
class Probe:
    duration_seconds: float
    width: int  # as displayed (rotation applied)
    height: int
    video_codec: str
    rotation: int
    has_audio: bool


def executable() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def probe(path: Path, name: str) -> Probe:
    run = subprocess.run([executable(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, timeout=60,
                         check=False)  # fmt: skip
    info = run.stderr
    if "moov atom not found" in info or "Invalid data found" in info or "End of file" in info:
        code = "corrupt-video" if "moov atom" in info else "not-a-video"
        raise VideoError(code, f"{name} is not a readable video ({_last_line(info)}).")
    video = re.search(r"Stream #\S+.*?: Video: (\w+).*?(\d{2,5})x(\d{2,5})", info)
    if video is None:
        raise VideoError("not-a-video", f"{name} has no video stream.")
    duration = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", info)
    if duration is None:
        raise VideoError("corrupt-video", f"{name} has no known duration.")
    hours, minutes, seconds = duration.groups()
    rotation_match = re.search(r"rotation of (-?\d+(?:\.\d+)?) degrees", info)
    rotation = round(float(rotation_match.group(1))) % 360 if rotation_match else 0
    width, height = int(video.group(2)), int(video.group(3))
    if rotation in (90, 270):
        width, height = height, width
    return Probe(
        duration_seconds=int(hours) * 3600 + int(minutes) * 60 + float(seconds),
        width=width,
        height=height,
        video_codec=video.group(1),
        rotation=rotation,
        has_audio=bool(re.search(r"Stream #\S+.*?: Audio: ", info)),
    )


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


def thumbnail(source: Path, at_seconds: float, out: Path, width: int | None = None) -> None:
    scale = ["-vf", f"scale={width}:-2"] if width else []
    run = subprocess.run(
        [executable(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-ss", f"{at_seconds:.3f}",
         "-i", str(source), "-frames:v", "1", *scale, "-q:v", "3", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if run.returncode != 0 or not out.exists():
        _raise_if_out_of_space(run.stderr)
        raise VideoError("thumbnail-failed", f"Could not take a frame at {at_seconds:.1f}s: {_last_line(run.stderr)}")


def rendition_args(source: Path, out: Path, height: int, has_audio: bool) -> list[str]:
    """H.264/AAC MP4 at `height` (rotation applied by ffmpeg), keyframes every segment, faststart."""
    video_kbps = BITRATES_KBPS.get(height) or max(BITRATES_KBPS[k] for k in BITRATES_KBPS if k <= max(height, 144))
    audio = ["-c:a", "aac", "-b:a", "96k" if height <= 360 else "128k", "-ac", "2"] if has_audio else ["-an"]
    return [
        "-i", str(source), "-map", "0:v:0", *(["-map", "0:a:0"] if has_audio else []),
        "-vf", f"scale=-2:{height}:flags=bicubic,format=yuv420p",
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
        "-b:v", f"{video_kbps}k", "-maxrate", f"{int(video_kbps * 1.5)}k", "-bufsize", f"{video_kbps * 2}k",
        "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})", "-sc_threshold", "0",
        *audio, "-movflags", "+faststart", str(out),
    ]  # fmt: skip


def hls_args(rendition: Path, folder: Path) -> list[str]:
    """Segments an MP4 rendition into HLS without re-encoding (its keyframes already align)."""
    return [
        "-i", str(rendition), "-c", "copy", "-f", "hls", "-hls_time", str(SEGMENT_SECONDS),
        "-hls_playlist_type", "vod", "-hls_segment_filename", str(folder / "seg_%03d.ts"), str(folder / "index.m3u8"),
    ]  # fmt: skip


def master_playlist(variants: list[tuple[int, int, int]]) -> str:
    """variants: (height, width, bits per second) -> a master playlist with relative URIs."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    for height, width, bandwidth in sorted(variants):
        lines.append(f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={width}x{height}")
        lines.append(f"{height}p/index.m3u8")
    return "\n".join(lines) + "\n"
