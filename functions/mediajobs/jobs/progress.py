"""Progress on the job document: counts, current item and heartbeat, written at most about
once a second (Firestore's sustained limit per document) and never backwards."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from firebase_functions import logger
from google.cloud import firestore as gfs

from mediajobs.jobs import state, store
from mediajobs.jobs.announce import notify_change
from mediajobs.jobs.docstore import Conflict, TooLarge, Write
from mediajobs.jobs.models import (
    MAX_ERRORS_ON_JOB,
    MAX_LABEL_BYTES,
    ItemErrorInfo,
    ItemStatus,
    Job,
    JobStatus,
    bounded_errors,
    clip,
    percent_of,
)
from mediajobs.jobs.store import now

_progress_checked: dict[str, float] = {}
_errors_full: set[str] = set()  # jobs whose `errors` already fill their byte budget
_counts_read: dict[str, tuple[float, store.Counts]] = {}
_first_result_seen: set[str] = set()  # jobs whose first settled item this process has reported


PROGRESS_INTERVAL = dt.timedelta(seconds=1)  # at most about one job write per second


def heartbeat_due(
    last: dt.datetime | None,
    at: dt.datetime,
    *,
    force: bool = False,
    first_current: bool = False,
    first_result: bool = False,
) -> bool:
    """Whether a progress write is due: at most one about every PROGRESS_INTERVAL, except a
    forced one, the first `current` of a job and its first settled item (both shown at once)."""
    return force or first_current or first_result or last is None or at - last >= PROGRESS_INTERVAL


def update_progress(
    job_id: str,
    *,
    counts: store.Counts | None = None,
    current: str | None = None,
    partial: float | None = None,
    force: bool = False,
    settled: bool = False,
    shards: int | None = None,
) -> None:
    """Writes progress, current item and heartbeat to the job, at most about once a second.

    `shards`: the plan's `known_shards`, when the caller knows them (store.read_counts).

    `settled`: the caller has just settled an item. The job's first settled item is shown at
    once (a user waits for the first result more than for any other), for jobs small enough
    that reading their counts is a few documents.

    The write is conditional on the document not having changed since it was read, so
    concurrent workers never move `percent` backwards.
    """
    first_result = settled and job_id not in _first_result_seen
    checked = _progress_checked.get(job_id, 0.0)
    if not force and not first_result and time.monotonic() - checked < PROGRESS_INTERVAL.total_seconds():
        return  # this process looked less than a second ago: not even a read
    if len(_progress_checked) > 1000:
        _progress_checked.clear()
        _errors_full.clear()
        _first_result_seen.clear()
    _progress_checked[job_id] = time.monotonic()
    if first_result:
        _first_result_seen.add(job_id)
    docs = store.docs()
    path = store.job_path(job_id)
    snapshot = docs.get(path)
    if not snapshot.exists:
        return
    job = Job.from_document(job_id, snapshot.to_dict())
    if job.status != JobStatus.PROCESSING:
        return
    first_current = current is not None and job.current is None
    first_result = (
        first_result
        and job.progress.done + job.progress.failed == 0
        and job.progress.total > 1  # a one-item job's first result is its end, written by finalize
        and store.shards_for(job.progress.total) <= store.COUNTER_SHARDS
    )
    if not heartbeat_due(job.heartbeat_at, now(), force=force, first_current=first_current, first_result=first_result):
        return
    counts = counts or _recent_counts(job_id, shards, fresh=first_result)
    errors = None
    if counts.failed > len(job.errors) and len(job.errors) < MAX_ERRORS_ON_JOB and job_id not in _errors_full:
        fetched = first_item_errors(job_id)
        errors = bounded_errors(fetched)
        if len(errors) < min(len(fetched), MAX_ERRORS_ON_JOB):
            _errors_full.add(job_id)  # the byte budget is spent: no need to look again
    percent = _percent(counts.processed, partial, job.progress.total)
    fields = state.progress_update(
        job, done=counts.done, failed=counts.failed, percent=percent, current=current, errors=errors
    )
    # Conditional on the job as read: someone else writing first is fine (the next update
    # carries our counts), and `percent` never goes down.
    while True:
        try:
            docs.commit([Write(path, fields, if_unchanged_since=snapshot.update_time)])
            break
        except Conflict:
            return
        except TooLarge:
            smaller = state.smaller(fields)
            if smaller is None:
                raise
            logger.warn("job write too large; writing less", job_id=job_id)
            fields = smaller
    notify_change(job_id, job.type)


SHARD_READ_SPACING = dt.timedelta(milliseconds=250)  # a big job's worker reads 200 shards every 50 s


def counts_interval(shards: int) -> dt.timedelta:
    """How long a worker reuses the counts it read for progress writes: a second for jobs with
    the usual number of shards (their bars move every second), longer as a big job's shards
    grow in number, so progress costs each worker about 4 reads a second whatever the job's size
    (with many workers one of them has read recently, and counts on the job never go down)."""
    if shards <= store.COUNTER_SHARDS:
        return PROGRESS_INTERVAL
    return max(PROGRESS_INTERVAL, SHARD_READ_SPACING * shards)


def _recent_counts(job_id: str, shards: int | None, *, fresh: bool = False) -> store.Counts:
    """The job's counts for a progress write, read again after `counts_interval` (or now)."""
    cached = _counts_read.get(job_id)
    if cached is not None and not fresh:
        read_at, counts = cached
        if time.monotonic() - read_at < counts_interval(counts.shards).total_seconds():
            return counts
    counts = store.read_counts(job_id, shards)
    if len(_counts_read) > 1000:
        _counts_read.clear()
    _counts_read[job_id] = (time.monotonic(), counts)
    return counts


def _percent(processed: int, partial: float | None, total: int) -> int:
    """Settled items, plus how far the running item says it is; 100 only when all are done."""
    if not partial or total <= 0:
        return percent_of(processed, total)
    return min(99, int((processed + max(0.0, min(partial, 1.0))) * 100 / total))


def first_item_errors(job_id: str) -> list[ItemErrorInfo]:
    """The first failed items' errors (up to MAX_ERRORS_ON_JOB; bound them in bytes to write)."""
    failed = store.items_ref(job_id).where(filter=gfs.FieldFilter("status", "==", ItemStatus.FAILED.value))
    errors = []
    for snap in failed.limit(MAX_ERRORS_ON_JOB).stream():
        data = snap.to_dict() or {}
        error = data.get("error") or {}
        errors.append(
            ItemErrorInfo(
                item=str(data.get("label", snap.id)),
                code=str(error.get("code", "unknown")),
                message=str(error.get("message", "")),
                incident_id=error.get("incident_id") if isinstance(error.get("incident_id"), str) else None,
            )
        )
    return errors


# ---------------------------------------------------------------- a running item's own progress


class ItemProgress:
    """`fraction` (0..1) and `current` on a running item's document, for per-item bars.

    Written through the item's claim (so only while the item is ours), never in the item's first
    PROGRESS_INTERVAL (an item that short writes nothing extra: exports of small users cost what
    they did) and then at most once per PROGRESS_INTERVAL (Firestore's ~1 write/s per document)."""

    def __init__(self, job_id: str, claim: Any) -> None:
        self._job_id = job_id
        self._claim = claim
        self._last = time.monotonic()  # the item's start counts as a write: the first waits

    def report(self, fraction: float | None, current: str | None) -> bool:
        """Writes what the item says if due; True when it did."""
        if fraction is None and current is None:
            return False
        at = time.monotonic()
        if at - self._last < PROGRESS_INTERVAL.total_seconds():
            return False
        self._last = at
        fields: dict[str, Any] = {}
        if fraction is not None:
            fields["fraction"] = round(max(0.0, min(1.0, fraction)), 4)
        if current is not None:
            fields["current"] = clip(current, MAX_LABEL_BYTES)
        return bool(self._claim.write(self._job_id, fields))  # False: no longer ours; nothing to do


class ByteProgress:
    """For a kind that works through files of known sizes: call `file_done()` after each file
    (in order); the item reports the bytes done so far, e.g. "12.0 MB of 40.0 MB"."""

    def __init__(self, ctx: Any, sizes: list[int | None]) -> None:
        self._ctx = ctx
        self._sizes = [max(0, size or 0) for size in sizes]
        self._total = sum(self._sizes)
        self._files = 0
        self._bytes = 0

    def file_done(self) -> None:
        if self._files < len(self._sizes):
            self._bytes += self._sizes[self._files]
            self._files += 1
        if self._total <= 0:
            self._ctx.heartbeat()
            return
        shown = f"{_megabytes(self._bytes)} of {_megabytes(self._total)}"
        self._ctx.heartbeat(self._bytes / self._total, f"{shown} ({self._files} of {len(self._sizes)} files)")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
