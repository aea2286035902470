"""A running item's own progress (`fraction`, `current`): throttled to Firestore's ~1 write/s per
document, nothing for items shorter than a second, bytes of files for exports."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mediajobs.jobs.progress import ByteProgress, ItemProgress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingClaim:
    def __init__(self, owned: bool = True) -> None:
        self.writes: list[dict[str, Any]] = []
        self.owned = owned

    def write(self, job_id: str, fields: dict[str, Any]) -> bool:
        assert job_id == "job-1"
        self.writes.append(fields)
        return self.owned


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "monotonic", clock)
    return clock


def test_an_item_shorter_than_a_second_writes_nothing(clock: Clock) -> None:
    claim = RecordingClaim()
    reporter = ItemProgress("job-1", claim)
    for step in range(9):
        clock.now += 0.1
        assert not reporter.report(step / 10, "working")
    assert claim.writes == []


def test_a_long_item_writes_at_most_once_a_second(clock: Clock) -> None:
    claim = RecordingClaim()
    reporter = ItemProgress("job-1", claim)
    for step in range(50):  # 5 s of reports every 100 ms
        clock.now += 0.1
        reporter.report(step / 50, f"step {step}")
    assert 4 <= len(claim.writes) <= 5
    fractions = [w["fraction"] for w in claim.writes]
    assert fractions == sorted(fractions) and all(0 < f < 1 for f in fractions)
    assert claim.writes[0] == {"fraction": 0.18, "current": "step 9"}


def test_fraction_is_clamped_current_clipped_and_nothing_is_not_written(clock: Clock) -> None:
    claim = RecordingClaim()
    reporter = ItemProgress("job-1", claim)
    clock.now += 2
    assert not reporter.report(None, None)
    assert reporter.report(1.7, "x" * 1000)
    assert claim.writes[0]["fraction"] == 1.0 and len(claim.writes[0]["current"].encode()) <= 300


def test_an_item_no_longer_ours_is_left_alone(clock: Clock) -> None:
    reporter = ItemProgress("job-1", RecordingClaim(owned=False))
    clock.now += 2
    assert not reporter.report(0.5, None)


class RecordingContext:
    def __init__(self) -> None:
        self.beats: list[tuple[float | None, str | None]] = []

    def heartbeat(self, fraction: float | None = None, current: str | None = None) -> None:
        self.beats.append((fraction, current))


def test_byte_progress_reports_bytes_of_files_done() -> None:
    ctx = RecordingContext()
    files = ByteProgress(ctx, [1_000_000, None, 3_000_000])
    for _ in range(3):
        files.file_done()
    assert ctx.beats == [
        (0.25, "1.0 MB of 4.0 MB (1 of 3 files)"),
        (0.25, "1.0 MB of 4.0 MB (2 of 3 files)"),
        (1.0, "4.0 MB of 4.0 MB (3 of 3 files)"),
    ]


def test_byte_progress_of_unknown_sizes_only_beats() -> None:
    ctx = RecordingContext()
    ByteProgress(ctx, [None, None]).file_done()
    assert ctx.beats == [(None, None)]
