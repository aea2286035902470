"""Running items: each task claims its items with a lease, runs them through the kind and
settles each exactly once; the chunk that sees every item settled finalizes the job."""

from __future__ import annotations

import errno
import functools
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from google.api_core import exceptions as gexc

from mediajobs import incidents, logs
from mediajobs.jobs import store
from mediajobs.jobs.docstore import TooLarge
from mediajobs.jobs.finish import finalize_job
from mediajobs.jobs.item_state import Shard, checkpoint_saved
from mediajobs.jobs.kinds import ItemCancelled, ItemFailed, JobKind, TransientError, kind_of
from mediajobs.jobs.leases import (
    Claim,
    ItemBusy,
    Settled,
    claim_item,
    item_lease_keeper,
    release_item,
    settle_counted,
)
from mediajobs.jobs.models import MAX_RESULT_BYTES, ErrorInfo, ItemStatus, Job, PlanState, json_bytes
from mediajobs.jobs.progress import PROGRESS_INTERVAL, ItemProgress, update_progress
from mediajobs.jobs.queues import queue_named
from mediajobs.jobs.transient import TRANSIENT_ERRORS
from mediajobs.jobs.validate import validated

MAX_ITEM_ATTEMPTS = 5
MAX_CHECKPOINT_BYTES = 16 * 1024


class _Context:
    """What a running item sees of the engine: cancellation and heartbeats, both throttled."""

    def __init__(self, job: Job, item_label: str, claim: Claim) -> None:
        self.job = job
        self._label = item_label
        self._claim = claim
        self._checked_at = time.monotonic()
        self._cancelled = job.cancel_requested
        self._beat_at = 0.0
        self._own_progress = ItemProgress(job.id, claim)

    def cancelled(self) -> bool:
        if not self._cancelled and time.monotonic() - self._checked_at > 2:
            self._checked_at = time.monotonic()
            latest = store.load_job(self.job.id)
            self._cancelled = latest is None or latest.cancel_requested or latest.terminal
        return self._cancelled

    def heartbeat(self, fraction: float | None = None, current: str | None = None) -> None:
        self._own_progress.report(fraction, current)  # the item's bar (throttled on its own)
        if time.monotonic() - self._beat_at >= PROGRESS_INTERVAL.total_seconds():
            self._beat_at = time.monotonic()
            update_progress(self.job.id, current=self._label, partial=fraction, shards=_known_shards(self.job.id))

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if json_bytes(checkpoint) > MAX_CHECKPOINT_BYTES:
            raise ValueError(f"A checkpoint is limited to {MAX_CHECKPOINT_BYTES} bytes.")
        if not self._claim.write(self.job.id, checkpoint_saved(checkpoint)):
            raise ItemBusy(self._claim.item.id)  # the item is no longer ours: stop here


def run_items(job_id: str, item_ids: list[str]) -> None:
    """Runs a chunk of items; raises (so the task is retried) only if some item must wait.

    A kind with `items_in_flight` > 1 runs that many of the chunk's items at once, so one
    item's claim, downloads, uploads and settle overlap another's computing."""
    job = _recent_job(job_id)
    if job is None or job.terminal:
        return
    in_flight = min(kind_of(job).items_in_flight, len(item_ids))
    if in_flight > 1:
        with ThreadPoolExecutor(in_flight, thread_name_prefix="item") as pool:
            outcomes = list(pool.map(functools.partial(_attempt, job_id), item_ids))
    else:
        outcomes = [_attempt(job_id, item_id) for item_id in item_ids]
    if _STOPPED in outcomes:
        return
    after_item_settled(job_id, completion_due=_completion_due(job_id, outcomes))
    transient = next((outcome for outcome in outcomes if isinstance(outcome, BaseException)), None)
    if transient is not None:
        raise TransientError(f"retrying: {transient}") from transient
    busy = [item_id for item_id, outcome in zip(item_ids, outcomes, strict=True) if outcome == _BUSY]
    if busy:
        raise ItemBusy(f"items held by another worker: {busy}")


_SETTLED, _UNCHANGED, _BUSY, _STOPPED = "settled", "unchanged", "busy", "stopped"
_COMPLETED_SHARD = "completed-shard"  # settled, and that settle made its counter shard complete


def _completion_due(job_id: str, outcomes: list[str | BaseException]) -> bool:
    """Whether this chunk reads every counter shard to learn if the job is done: when one of
    its settles completed a shard (of the settles that complete the last shards, at least one
    sees all of them complete: its own write precedes its read); when it settled nothing new (a
    retry after a crash may be the last word on the job); and for jobs whose shards do not
    know their items (planned by an older engine)."""
    if _COMPLETED_SHARD in outcomes or _SETTLED not in outcomes:
        return True
    return not _shards_own_items(job_id)


def _attempt(job_id: str, item_id: str) -> str | BaseException:
    """One item of a chunk: what became of it, or the transient error it must be retried for."""
    job = _recent_job(job_id)
    if job is None or job.terminal:
        return _STOPPED
    try:
        settled = _run_one(job, kind_of(job), item_id)
    except ItemBusy:
        return _BUSY
    except TRANSIENT_ERRORS as error:
        return error
    if settled is None:
        return _UNCHANGED
    completes_shard = _completes_shard(job_id, item_id, settled)
    if not (completes_shard and _counter_shards(job_id) == 1):  # else the job ends next: finalize writes it
        update_progress(job_id, settled=True, shards=_known_shards(job_id))
    return _COMPLETED_SHARD if completes_shard else _SETTLED


def _completes_shard(job_id: str, item_id: str, settled: Settled) -> bool:
    """After our settle: whether the item's counter shard has now counted all its items. The
    shard's new total came back with our commit, and what it owns never changes (listed in the
    plan, read with it; for jobs planned before the plan listed it, read from the shard once per
    process); a settle made in a transaction reads the shard instead."""
    if not _shards_own_items(job_id):
        return False
    path = store.counter_path(job_id, item_id, _counter_shards(job_id))
    if settled.shard_settled is None:
        return Shard.model_validate(store.docs().get(path).to_dict()).complete
    if path not in _owned:
        _remember_owned({path: Shard.model_validate(store.docs().get(path).to_dict()).owned})
    owned = _owned[path]
    return owned is not None and settled.shard_settled >= owned


# Per-process memory that saves Firestore reads per item (a worker runs many items of a job).
_job_cache: dict[str, tuple[float, Job | None]] = {}
_plan_totals: dict[str, int] = {}  # a plan's total never changes once all its items are enqueued
_shards: dict[str, int] = {}
_owning: set[str] = set()  # jobs whose shards know how many items they count
_owned: dict[str, int | None] = {}  # counter shard path -> how many items it counts


def _remember_owned(counts: dict[str, int | None]) -> None:
    """Keeps what shards own (it never changes), within 10,000 shards per process."""
    if len(_owned) + len(counts) > 10_000:
        _owned.clear()
    _owned.update(counts)


def _recent_job(job_id: str) -> Job | None:
    """The job as read at most a second ago: cancellation is seen within about a second."""
    cached = _job_cache.get(job_id)
    if cached is None or time.monotonic() - cached[0] > PROGRESS_INTERVAL.total_seconds():
        cached = (time.monotonic(), store.load_job(job_id))
        if len(_job_cache) > 1000:
            _job_cache.clear()
        _job_cache[job_id] = cached
    return cached[1]


def _planned_total(job_id: str) -> int | None:
    """How many items the job has, once planning is over (None while it is still planning)."""
    if job_id not in _plan_totals:
        _read_plan(job_id)
    return _plan_totals.get(job_id)


def _shards_own_items(job_id: str) -> bool:
    if job_id not in _shards:
        _read_plan(job_id)
    return job_id in _owning


def _counter_shards(job_id: str) -> int:
    """The job's counter shards, fixed when it was planned (before any item could run)."""
    if job_id not in _shards:
        _read_plan(job_id)
    return _shards[job_id]


def _known_shards(job_id: str) -> int | None:
    """The shard count when the plan wrote every shard document (`PlanState.known_shards`)."""
    return _counter_shards(job_id) if _shards_own_items(job_id) else None


def _read_plan(job_id: str) -> None:
    """Caches what never changes once set: the shard count, and the total once all is enqueued."""
    plan = PlanState.model_validate(store.docs().get(store.engine_path(job_id, "plan")).to_dict() or {})
    if len(_shards) > 1000:
        _shards.clear()
        _plan_totals.clear()
        _owning.clear()
    _shards[job_id] = plan.shards or store.COUNTER_SHARDS
    if plan.shards_own_items:
        _owning.add(job_id)
    if plan.shard_owned is not None and len(plan.shard_owned) == _shards[job_id]:  # no shard read to learn them
        _remember_owned({store.shard_path(job_id, n): owned for n, owned in enumerate(plan.shard_owned)})
    if plan.enqueued_all:
        _plan_totals[job_id] = plan.total


def _run_one(job: Job, kind: JobKind, item_id: str) -> Settled | None:
    """Runs one item unless it is settled or held; what this call settled, or None."""
    shards = _counter_shards(job.id)
    if job.cancel_requested:
        return settle_counted(job.id, item_id, None, ItemStatus.CANCELLED, shards=shards)
    queue = queue_named(kind.queue)
    claim = claim_item(job.id, item_id, queue)
    if claim is None:
        return None
    item = claim.item
    if item.attempt > MAX_ITEM_ATTEMPTS:
        message = f"Gave up after {MAX_ITEM_ATTEMPTS} attempts (the worker kept dying or timing out)."
        gave_up = ErrorInfo(code="too-many-attempts", message=message)
        return settle_counted(job.id, item_id, claim, ItemStatus.FAILED, error=gave_up, shards=shards)
    if shards > 1:  # a one-item job's item is the job: its claim already shows it running
        update_progress(job.id, current=item.label, shards=_known_shards(job.id))
    started = time.monotonic()
    input, options = validated(kind, job)
    ctx = _Context(job, item.label, claim)
    beat = functools.partial(update_progress, job.id, current=item.label)
    result: dict[str, Any] | None
    error: ErrorInfo | None
    try:
        with item_lease_keeper(job.id, claim, queue, beat):
            result = kind.process_item(ctx, item, input, options)
        error = _oversized(result)
    except ItemFailed as failure:
        result, error = None, ErrorInfo(code=failure.code, message=failure.message)
        logs.item_failed(job.id, job.type, item_id, None, code=failure.code, reason=error.message)
    except ItemCancelled:
        return settle_counted(job.id, item_id, claim, ItemStatus.CANCELLED, started=started, shards=shards)
    except TRANSIENT_ERRORS as transient:
        if item.attempt < MAX_ITEM_ATTEMPTS:
            release_item(job.id, item_id, claim.attempt_id)
            raise
        incident_id = incidents.new_incident_id()
        message = f"Storage or a provider was still unreachable after {item.attempt} attempts; try again later"
        result, error = None, ErrorInfo.incident("unavailable", message, incident_id)
        logs.item_failed(job.id, job.type, item_id, transient, code="unavailable", incident_id=incident_id)
    except Exception as unexpected:  # noqa: BLE001 - an item that raises fails alone
        result, error = None, _unexpected(job, item_id, item.label, unexpected)
    status = ItemStatus.FAILED if error else ItemStatus.DONE
    recorded = None if error else result
    try:
        return settle_counted(
            job.id, item_id, claim, status, result=recorded, error=error, started=started, shards=shards
        )
    except (gexc.InvalidArgument, TooLarge) as refused:  # Firestore will not store this result (shape, size)
        logs.item_failed(job.id, job.type, item_id, refused, code="internal")
        error = ErrorInfo(code="internal", message="The item's result could not be recorded; see the log.")
        return settle_counted(job.id, item_id, claim, ItemStatus.FAILED, error=error, started=started, shards=shards)


def _oversized(result: dict[str, Any]) -> ErrorInfo | None:
    """An item result too large for its document fails the item (it would fail every write)."""
    size = json_bytes(result)
    if size <= MAX_RESULT_BYTES:
        return None
    return ErrorInfo(code="internal", message=f"The item's result is too large to record ({size} bytes).")


def _unexpected(job: Job, item_id: str, label: str, error: Exception) -> ErrorInfo:
    """An item that raised: its error names an incident (logged with the traceback for Error
    Reporting), never the exception's text, which may carry paths, URLs or secrets."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        logs.item_failed(job.id, job.type, item_id, error, code="no-space")
        return ErrorInfo(code="no-space", message=_no_space_message(label))
    incident_id = incidents.new_incident_id()
    logs.item_failed(job.id, job.type, item_id, error, code="internal", incident_id=incident_id)
    return ErrorInfo.incident("internal", "Unexpected error; report it with the job id", incident_id)


def _no_space_message(label: str) -> str:
    folder = tempfile.gettempdir()
    size_mb = shutil.disk_usage(folder).total / 2**20
    return (
        f"Ran out of temporary disk space while processing {label} "
        f"({size_mb:.0f} MB in {folder}, shared by the items this instance works on). "
        "Try a smaller input (for a video: fewer or lower renditions), or give the function more "
        "memory (its /tmp lives in memory)."
    )


def after_item_settled(job_id: str, *, completion_due: bool = True) -> None:
    """After a chunk: finalizes the job if every item settled (looking only when it may have),
    else records progress (throttled)."""
    total = _planned_total(job_id)
    if not completion_due or total is None:
        update_progress(job_id, shards=_known_shards(job_id))
        return
    counts = store.read_counts(job_id, _known_shards(job_id))
    if counts.settled >= total:
        finalize_job(job_id)
    else:
        update_progress(job_id, counts=counts)
