"""The video kind's boundaries as Pydantic models: input, options, the items' results and the
job's result (the contract's JSON Schema is generated from `VideoResult`)."""

from __future__ import annotations

from typing import Literal

import pydantic

from mediajobs import storage_paths
from mediajobs.validation import StrictModel


class VideoInput(StrictModel):
    path: str = pydantic.Field(min_length=1, max_length=1024)
    title: str | None = pydantic.Field(
        default=None, min_length=1, max_length=200, description="The library video's title (default: the file name)."
    )

    @pydantic.field_validator("path")
    @classmethod
    def safe(cls, path: str) -> str:
        if not storage_paths.is_plain(path):
            raise ValueError(f"{path!r} is not a valid storage path")
        return path


class VideoOptions(StrictModel):
    renditions: list[int] = pydantic.Field(default=[360, 720], min_length=1, max_length=5)
    hls: bool = True
    dash: bool = True
    thumbnails: int = pydantic.Field(default=3, ge=0, le=20)
    mobile: bool = True
    previews: bool = pydantic.Field(default=True, description="A scrubbing sprite with its WebVTT thumbnail track.")

    @pydantic.field_validator("renditions")
    @classmethod
    def heights(cls, values: list[int]) -> list[int]:
        bad = [v for v in values if not 144 <= v <= 2160 or v % 2]
        if bad:
            raise ValueError(f"heights must be even numbers from 144 to 2160, not {bad}")
        return sorted(set(values))

    @property
    def streaming(self) -> bool:
        return self.hls or self.dash


class Span(pydantic.BaseModel):
    """<S t d r>: `r` more segments of duration `d` follow the one starting at `t` (-1: right
    after the previous one). A map, not a tuple: Firestore stores no arrays inside arrays."""

    t: int = -1
    d: int
    r: int = 0


class Track(pydantic.BaseModel):
    """One CMAF track (a video rendition or the audio) as its DASH SegmentTemplate describes it;
    the HLS playlists and the DASH manifest are both written from it, over the same files."""

    name: str  # its folder under stream/: "720p", "audio"
    content_type: Literal["video", "audio"]
    codecs: str
    bandwidth: int
    width: int | None = None
    height: int | None = None
    frame_rate: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    timescale: int
    timeline: list[Span]
    init: str  # file names inside the track's folder
    media: str  # a DASH template, e.g. seg_$Number%05d$.m4s
    start_number: int = 1

    def segments(self) -> list[tuple[int, int, int]]:
        """(number, start, duration) of every segment, in timescale units."""
        out = []
        number, time = self.start_number, 0
        for span in self.timeline:
            time = span.t if span.t >= 0 else time
            for _ in range(span.r + 1):
                out.append((number, time, span.d))
                number += 1
                time += span.d
        return out


class Rendition(pydantic.BaseModel):
    height: int
    width: int
    path: str
    bitrate: int  # bits per second of the whole MP4


class Preview(pydantic.BaseModel):
    """The scrubbing sprite: tiles of `tile_width` x `tile_height`, `columns` per row, one per
    `interval_seconds`, described cue by cue (`#xywh=`) by the WebVTT thumbnail track."""

    sprite_path: str
    vtt_path: str
    tile_width: int
    tile_height: int
    columns: int
    rows: int
    count: int
    interval_seconds: float


class VideoResult(pydantic.BaseModel):
    """`result` of a completed video_process job."""

    video_id: str
    duration_seconds: float
    width: int
    height: int
    rotation: int
    video_codec: str
    has_audio: bool
    thumbnails: list[str]
    poster: str | None
    renditions: list[Rendition]
    mobile_path: str | None
    hls_master_path: str | None
    dash_manifest_path: str | None
    preview: Preview | None = None
    warnings: list[str]
