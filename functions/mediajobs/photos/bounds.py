"""What a photo job writes about its inputs and outputs, within the engine's byte budgets.

A ZIP entry's name may be 64 KiB and a job may have 2000 outputs: every name and message is
clipped as the engine clips labels and messages (jobs.models), and every list is cut to a
byte budget and counts what it left out. The job's `result` stays well under the engine's
MAX_RESULT_BYTES whatever the inputs were, so it is never replaced by `{truncated: true}`, and
always keeps `archive_path` (results.zip holds every output).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from mediajobs.jobs.models import MAX_CODE_BYTES, MAX_LABEL_BYTES, MAX_MESSAGE_BYTES, clip, json_bytes

MAX_SKIPPED_RECORDED = 500  # entries of `skipped`
MAX_SKIPPED_BYTES = 48 * 1024  # all of `skipped` together (in photo_skipped and in the result)
MAX_OUTPUTS_BYTES = 128 * 1024  # all of `outputs` together
MAX_PATH_BYTES = 1024  # a Storage object name's own limit
# The rest of a result (counts, archive_path, keys) takes well under 4 KiB: a result is at most
# this, 180 KiB against the engine's 256 KiB.
MAX_RESULT_BUDGET = MAX_OUTPUTS_BYTES + MAX_SKIPPED_BYTES + 4 * 1024

T = TypeVar("T")


class BoundedList(Generic[T]):
    """The first values added that fit `max_bytes` (as a JSON list) and `max_count` (`kept`);
    `omitted` counts the values added after the list was full, which are not held, so memory
    stays bounded however many are added."""

    def __init__(self, max_bytes: int, max_count: int | None = None) -> None:
        self.kept: list[T] = []
        self.max_bytes = max_bytes
        self.max_count = max_count
        self.used = 2  # []
        self.omitted = 0

    def add(self, value: T) -> None:
        size = json_bytes(value) + 2  # and its ", " (json_bytes measures a list with those)
        full = self.omitted > 0 or (self.max_count is not None and len(self.kept) >= self.max_count)
        if full or self.used + size > self.max_bytes:
            self.omitted += 1
            return
        self.used += size
        self.kept.append(value)

    @property
    def total(self) -> int:
        """Every value added, kept or not."""
        return len(self.kept) + self.omitted


def bounded(values: Iterable[T], max_bytes: int, max_count: int | None = None) -> BoundedList[T]:
    kept: BoundedList[T] = BoundedList(max_bytes, max_count)
    for value in values:
        kept.add(value)
    return kept


def skipped_entry(value: Mapping[str, Any]) -> dict[str, str]:
    """One skipped ZIP entry ({source, entry, reason, message}) with every field clipped."""
    return {
        "source": clip(str(value.get("source", "")), MAX_PATH_BYTES),
        "entry": clip(str(value.get("entry", "")), MAX_LABEL_BYTES),
        "reason": clip(str(value.get("reason", "")), MAX_CODE_BYTES),
        "message": clip(str(value.get("message", "")), MAX_MESSAGE_BYTES),
    }


class SkippedLog:
    """What a plan skipped, as jobs/{job_id}/kind/photo_skipped records it: the first entries
    that fit the budget, how many were skipped in all and how many of those are not listed."""

    def __init__(self) -> None:
        self.entries: BoundedList[dict[str, str]] = BoundedList(MAX_SKIPPED_BYTES, MAX_SKIPPED_RECORDED)

    def add(self, skipped: Any) -> None:
        """A Skipped (or anything with source, entry, reason and message attributes)."""
        self.entries.add(skipped_entry(vars(skipped)))

    def extend(self, skipped: Iterable[Any]) -> None:
        for value in skipped:
            self.add(value)

    def record(self) -> dict[str, Any]:
        """The document's fields (the caller adds `expire_at`)."""
        return {"skipped": self.entries.kept, "count": self.entries.total, "omitted": self.entries.omitted}


def photo_result(
    *, outputs: Iterable[str], archive_path: str, succeeded: int, failed: int, skipped: Mapping[str, Any]
) -> dict[str, Any]:
    """The job's `result`: `outputs` cut to their budget (`outputs_omitted` counts the rest,
    which are all in results.zip and on the items), `skipped` as photo_skipped recorded it
    (bounded again: a record written by an earlier version need not be), and archive_path."""
    kept_outputs = bounded(outputs, MAX_OUTPUTS_BYTES)
    listed = skipped.get("skipped") or []
    kept_skipped = bounded((skipped_entry(value) for value in listed), MAX_SKIPPED_BYTES, MAX_SKIPPED_RECORDED)
    count = max(int(skipped.get("count") or 0), len(listed))
    return {
        "outputs": kept_outputs.kept,
        "outputs_omitted": kept_outputs.omitted,
        "archive_path": archive_path,
        "succeeded": succeeded,
        "failed": failed,
        "skipped": kept_skipped.kept,
        "skipped_count": count,
        "skipped_omitted": count - len(kept_skipped.kept),
    }
