"""How long an item of a video job takes on a deployed `videoitems` instance (2 vCPU), from
CPU costs measured with the bundled ffmpeg (docs/SCALING.md has the measurements). The plan
leaves out renditions that would not finish well inside the item deadline, with a warning,
rather than letting a task die at its deadline five times."""

from __future__ import annotations

ITEM_DEADLINE_SECONDS = 1800  # videoitems' timeout_sec, the most Cloud Tasks allows
ITEM_BUDGET_SECONDS = 0.7 * ITEM_DEADLINE_SECONDS  # the margin is for a slow instance
VCPUS = 2
CLOUD_VCPU_SLOWDOWN = 1.25  # a Cloud Run vCPU against a core of the machine that measured
TRANSFER_BYTES_PER_SECOND = 50 * 2**20  # Storage <-> function, each way, conservatively
# CPU-seconds per second of video per megapixel (measured, rounded up): decoding and scaling
# the source, then x264 at the preset the height uses.
DECODE_AND_SCALE_PER_MP = 0.25
ENCODE_PER_MP = {"veryfast": 0.45, "superfast": 0.20}


def megapixels(width: int, height: int) -> float:
    return width * height / 1e6


def rendition_seconds(
    duration: float, source: tuple[int, int], out: tuple[int, int], preset: str, source_bytes: int
) -> float:
    """Wall seconds of one rendition item: download, encode, package and upload."""
    cpu = duration * (DECODE_AND_SCALE_PER_MP * megapixels(*source) + ENCODE_PER_MP[preset] * megapixels(*out))
    output_bytes = duration * 6e6 / 8 * 2  # the MP4 and its segments, at most ~6 Mb/s
    transfer = (source_bytes + output_bytes) / TRANSFER_BYTES_PER_SECOND
    return cpu / VCPUS * CLOUD_VCPU_SLOWDOWN + transfer


def fits(seconds: float) -> bool:
    return seconds <= ITEM_BUDGET_SECONDS
