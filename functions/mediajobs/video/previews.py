"""Scrubbing previews: one sprite sheet of small frames and the WebVTT thumbnail track players
read for seek previews (each cue's payload is `previews.jpg#xywh=x,y,w,h`, the tile shown
while the pointer is over that stretch of the timeline).

Plain functions: the layout is decided from the probe, ffmpeg (ffmpeg.sprite_args) draws the
sheet in that layout, and the track is written from the same layout, so every cue names a
tile inside the sheet.
"""

from __future__ import annotations

import dataclasses
import math

TILE_WIDTH = 160
MAX_TILES = 100  # a 30-minute video: one tile every 18 s
MAX_COLUMNS = 10
MIN_INTERVAL_SECONDS = 1.0
SPRITE_NAME = "previews.jpg"
TRACK_NAME = "previews.vtt"


@dataclasses.dataclass(frozen=True)
class SpriteLayout:
    interval_seconds: float
    count: int
    columns: int
    rows: int
    tile_width: int
    tile_height: int

    @property
    def size(self) -> tuple[int, int]:
        return self.columns * self.tile_width, self.rows * self.tile_height

    def tile(self, index: int) -> tuple[int, int, int, int]:
        """x, y, w, h of tile `index` (0-based, row by row)."""
        row, column = divmod(index, self.columns)
        return column * self.tile_width, row * self.tile_height, self.tile_width, self.tile_height


def layout(duration_seconds: float, width: int, height: int) -> SpriteLayout:
    """One tile per interval (at least a second, at most MAX_TILES in all), TILE_WIDTH wide
    with the picture's aspect (even height), up to MAX_COLUMNS per row."""
    duration = max(duration_seconds, 0.001)
    interval = max(MIN_INTERVAL_SECONDS, duration / MAX_TILES)
    count = max(1, min(MAX_TILES, math.ceil(duration / interval)))
    columns = min(MAX_COLUMNS, count)
    rows = math.ceil(count / columns)
    tile_height = max(2, round(TILE_WIDTH * height / max(width, 1) / 2) * 2)
    return SpriteLayout(interval, count, columns, rows, TILE_WIDTH, tile_height)


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def thumbnail_track(sprite: SpriteLayout, duration_seconds: float, image: str = SPRITE_NAME) -> str:
    """The WebVTT thumbnail track: a cue per tile, the last one ending with the video."""
    lines = ["WEBVTT", ""]
    for index in range(sprite.count):
        start = index * sprite.interval_seconds
        end = duration_seconds if index == sprite.count - 1 else (index + 1) * sprite.interval_seconds
        x, y, w, h = sprite.tile(index)
        lines += [f"{_timestamp(start)} --> {_timestamp(max(end, start + 0.001))}", f"{image}#xywh={x},{y},{w},{h}", ""]
    return "\n".join(lines)
