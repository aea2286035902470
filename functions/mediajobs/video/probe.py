"""What a video is, read with PyAV (FFmpeg's libraries in process), never by parsing ffmpeg's text.

`probe` opens a local file or any seekable binary file object (a Storage `BlobReader`, so a
job is planned from ranged reads without downloading the video), decodes the first video frame
(rotation, and proof that the stream decodes) and reads packets near the end (a truncated
file has none there). Refusals carry the codes clients see on the job:

    not-a-video     not a media container, or no video stream
    corrupt-video   a container that cannot be read to its end (truncated, no index, no frames)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import IO, Any

from mediajobs.errors import CodedError

# First bytes of the containers people upload; failing to open one of these means damage,
# anything else that fails to open is simply not a video.
_CONTAINER_MAGIC: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"),  # MP4, MOV, 3GP (ISO base media)
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"wide"),
    (4, b"free"),
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska, WebM
    (0, b"RIFF"),  # AVI
    (0, b"FLV"),
    (0, b"\x00\x00\x01\xba"),  # MPEG-PS
    (0, b"\x47"),  # MPEG-TS sync byte
)
END_CHECK_SECONDS = 3.0
END_CHECK_BYTES = 64 * 1024 * 1024


class VideoError(CodedError):
    """The video cannot be processed; a clear code and message for the item or job."""


@dataclasses.dataclass(frozen=True)
class Probe:
    duration_seconds: float
    width: int  # as displayed (rotation applied)
    height: int
    video_codec: str
    rotation: int  # degrees counter-clockwise, 0/90/180/270
    has_audio: bool
    frame_rate: float
    container: str

    def as_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Probe:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


def probe(source: Path | IO[bytes], name: str) -> Probe:
    """Stream facts of `source`; VideoError (not-a-video / corrupt-video) when it cannot be used."""
    import av

    head = _head(source)
    try:
        container = av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as error:
        raise _unreadable(name, head, error) from None
    try:
        if not container.streams.video:
            raise VideoError("not-a-video", f"{name} has no video stream.")
        stream = container.streams.video[0]
        duration = _duration(container, stream)
        if duration is None or duration <= 0:
            raise VideoError("corrupt-video", f"{name} has no known duration.")
        try:
            frame = next(container.decode(stream), None)
        except av.error.FFmpegError as error:
            raise VideoError("corrupt-video", f"{name} is not a readable video ({error}).") from None
        if frame is None:
            raise VideoError("corrupt-video", f"{name} has no frames to process.")
        rotation = round(getattr(frame, "rotation", 0) or 0) % 360
        width, height = frame.width, frame.height
        if rotation in (90, 270):
            width, height = height, width
        if not _reaches_the_end(container, stream, duration):
            raise VideoError("corrupt-video", f"{name} is truncated: its data stops before its {duration:.1f}s end.")
        rate = stream.average_rate or stream.guessed_rate
        return Probe(
            duration_seconds=duration,
            width=width,
            height=height,
            video_codec=stream.codec_context.name,
            rotation=rotation,
            has_audio=bool(container.streams.audio),
            frame_rate=float(rate) if rate else 0.0,
            container=container.format.name,
        )
    finally:
        container.close()


def _head(source: Path | IO[bytes]) -> bytes:
    if isinstance(source, Path):
        with source.open("rb") as file:
            return file.read(16)
    position = source.tell()
    head = source.read(16)
    source.seek(position)
    return head


def _unreadable(name: str, head: bytes, error: Exception) -> VideoError:
    looks_like_video = any(head[at : at + len(magic)] == magic for at, magic in _CONTAINER_MAGIC)
    if looks_like_video:
        return VideoError("corrupt-video", f"{name} is a damaged or truncated video ({_reason(error)}).")
    return VideoError("not-a-video", f"{name} is not a readable video ({_reason(error)}).")


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return str(text)[:200]


def _duration(container: Any, stream: Any) -> float | None:
    if container.duration:
        return float(container.duration) / 1_000_000
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _reaches_the_end(container: Any, stream: Any, duration: float) -> bool:
    """True when the packets go on to the last seconds: a cut file's index promises data that
    is not there. Reads from the keyframe before the end (at most END_CHECK_BYTES)."""
    import av

    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    target = start + max(0.0, duration - END_CHECK_SECONDS)
    read = 0
    try:
        container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size and float(packet.pts * stream.time_base) >= target:
                return True
            read += packet.size
            if read > END_CHECK_BYTES:
                return True  # keyframes too far apart to look further: the decode will tell
    except av.error.FFmpegError:
        return False
    return False
