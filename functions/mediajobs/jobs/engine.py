"""The job lifecycle: start once, plan items, run them over Cloud Tasks, finish once.

    queued --(trigger, claimed in a transaction)--> processing --(plan task)--> items
    items --(item tasks, each claimed with a lease)--> settled --(last one)--> finalize
    finalize --(claimed with a lease)--> completed | failed | cancelled

Every step is safe to run twice: duplicate events, retried tasks and a killed worker only
repeat work whose outcome is recorded exactly once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import Any, TypeVar

import pydantic
import requests
from firebase_functions import logger
from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import platform
from mediajobs.jobs import store
from mediajobs.jobs.kinds import (
    Item,
    ItemCancelled,
    ItemFailed,
    ItemRecord,
    JobFailed,
    JobKind,
    Outcome,
    Summary,
    TransientError,
    get_kind,
)
from mediajobs.jobs.models import (
    MAX_ERRORS_ON_JOB,
    SETTLED_ITEM_STATUSES,
    ErrorInfo,
    ItemErrorInfo,
    Job,
    percent_of,
)
from mediajobs.jobs.store import SERVER_TIMESTAMP, now
from mediajobs.validation import describe

PLAN_QUEUE = "jobplan"  # Cloud Tasks queue ids allow no underscores
MAX_ITEM_ATTEMPTS = 5
PROGRESS_INTERVAL = dt.timedelta(seconds=1)  # at most about one job write per second
FINALIZE_LEASE = dt.timedelta(minutes=9)
WRITE_BATCH = 400
ENQUEUE_THREADS = 8
INLINE_PLAN_LEASE = dt.timedelta(seconds=90)  # longer than the start trigger may run (60 s)
INLINE_PLAN_WAIT = dt.timedelta(seconds=15)  # how long a plan task waits for the trigger's plan
PLAN_TIME_BUDGET = dt.timedelta(minutes=25)  # then a continuation task takes over (jobplan: 30 min)
PLAN_SAVE_INTERVAL = dt.timedelta(seconds=10)  # how often a plan records its enqueueing progress
T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
    requests.ConnectionError,
    requests.Timeout,
    gexc.ServiceUnavailable,
    gexc.TooManyRequests,
    gexc.InternalServerError,
    gexc.DeadlineExceeded,
    gexc.Aborted,
)


def batched(values: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


class ItemBusy(Exception):
    """Another worker holds an item's lease; the task is retried after the lease runs out."""


# ---------------------------------------------------------------- start


def validated(kind: JobKind, job: Job) -> tuple[Any, Any]:
    """The job's input and options as the kind's models; JobFailed with a clear message if bad:
    resource-exhausted when the only problem is too many entries in a list (the per-job caps
    on items: paths, user ids, ...), else invalid-argument."""
    try:
        input = kind.Input.model_validate(job.input)
    except pydantic.ValidationError as error:
        raise JobFailed(_code_of(error), describe(error, "input")) from None
    try:
        options = kind.Options.model_validate(job.options)
    except pydantic.ValidationError as error:
        raise JobFailed(_code_of(error), describe(error, "options")) from None
    return input, options


def _code_of(error: pydantic.ValidationError) -> str:
    return "resource-exhausted" if all(e["type"] == "too_long" for e in error.errors()) else "invalid-argument"


def start_job(job_id: str) -> bool:
    """Claims a queued job (only one caller ever wins) and schedules its planning."""
    try:
        job = store.load_job(job_id)
    except pydantic.ValidationError as error:  # written by hand or by an old client
        message = f"The job document is malformed: {describe(error)}"
        if _claim_queued(job_id, failed=ErrorInfo(code="invalid-argument", message=message)):
            logger.warn("job rejected", job_id=job_id, code="invalid-argument", message=message)
        return False
    if job is None or job.status != "queued":
        return False
    kind = get_kind(job.type)
    problem: ErrorInfo | None = None
    inline = False  # planned right here, not by the plan task
    if kind is None:
        problem = ErrorInfo(code="invalid-argument", message=f"Unknown job type {job.type!r}.")
    elif not job.owner_uid:
        problem = ErrorInfo(code="invalid-argument", message="The job has no owner_uid.")
    else:
        try:
            inline = kind.plans_quickly(validated(kind, job)[0])
        except JobFailed as failure:
            problem = ErrorInfo(code=failure.code, message=failure.message)

    if not _claim_queued(job_id, failed=problem):
        logger.info("job already claimed", job_id=job_id)
        return False
    notify_change(job_id, job.type)
    if problem is not None:
        logger.warn("job rejected", job_id=job_id, code=problem.code, message=problem.message)
        return True
    try:
        if inline:  # the plan task below is then only a safety net, in case this worker dies
            store.engine_ref(job_id, "plan").set({"inline_until": now() + INLINE_PLAN_LEASE}, merge=True)
        delay = int(INLINE_PLAN_LEASE.total_seconds()) if inline else None
        platform.enqueue(PLAN_QUEUE, {"job_id": job_id}, task_id=f"{job_id}-plan", delay_seconds=delay)
    except Exception as error:  # noqa: BLE001 - nothing else would ever pick this job up
        logger.error("could not schedule job", job_id=job_id, error=str(error))
        fail_job(job_id, ErrorInfo(code="unavailable", message=f"Could not schedule the job: {error}"))
        return True
    logger.info("job started", job_id=job_id, type=job.type, planned_inline=inline)
    if inline:
        _plan_inline(job_id)
    return True


def _plan_inline(job_id: str) -> None:
    """Plans a small job in the start trigger; on a failure a plan task takes over at once
    (and if even that cannot be enqueued, the delayed safety-net task does, after the lease)."""
    try:
        plan_job(job_id, inline=True)
    except Exception as error:  # noqa: BLE001 - the plan task retries whatever this was
        logger.warn("inline planning failed; the plan task takes over", job_id=job_id, error=repr(error))
        store.engine_ref(job_id, "plan").set({"inline_until": None}, merge=True)
        platform.enqueue(PLAN_QUEUE, {"job_id": job_id}, task_id=f"{job_id}-plan-now")


def _claim_queued(job_id: str, failed: ErrorInfo | None) -> bool:
    @gfs.transactional
    def claim(transaction: gfs.Transaction) -> bool:
        ref = store.job_ref(job_id)
        snapshot = ref.get(transaction=transaction)
        data = snapshot.to_dict() or {}
        if not snapshot.exists or data.get("status") != "queued":
            return False
        fields: dict[str, Any] = {
            "updated_at": SERVER_TIMESTAMP,
            "heartbeat_at": SERVER_TIMESTAMP,
            "started_at": SERVER_TIMESTAMP,
        }
        if data.get("cancel_requested"):
            fields.update(status="cancelled", finished_at=SERVER_TIMESTAMP, result={})
        elif failed is not None:
            fields.update(status="failed", error=failed.model_dump(), finished_at=SERVER_TIMESTAMP)
        else:
            fields.update(status="processing")
        for key, default in (
            ("progress", {"total": 0, "done": 0, "failed": 0, "percent": 0}),
            ("errors", []),
            ("current", None),
            ("cancel_requested", False),
            ("result", None),
            ("error", None),
            ("created_at", SERVER_TIMESTAMP),
        ):
            if key not in data and key not in fields:
                fields[key] = default
        transaction.update(ref, fields)
        return True

    result: bool = claim(platform.db().transaction())
    return result


def fail_job(job_id: str, error: ErrorInfo) -> None:
    """Ends a job that is not already ended as failed, keeping whatever it produced."""

    @gfs.transactional
    def end(transaction: gfs.Transaction) -> str | None:
        ref = store.job_ref(job_id)
        data = ref.get(transaction=transaction).to_dict() or {}
        if data.get("status") not in ("queued", "processing"):
            return None
        transaction.update(
            ref,
            {
                "status": "failed",
                "error": error.model_dump(),
                "current": None,
                "finished_at": SERVER_TIMESTAMP,
                "updated_at": SERVER_TIMESTAMP,
            },
        )
        return str(data.get("type", ""))

    job_type = end(platform.db().transaction())
    if job_type is not None:
        notify_change(job_id, job_type)


def notify_change(job_id: str, job_type: str) -> None:
    """Lets the job's kind mirror the job elsewhere (e.g. onto a scene); only kinds that care pay a read."""
    kind = get_kind(job_type)
    if kind is None or type(kind).on_job_change is JobKind.on_job_change:
        return
    snapshot = store.job_ref(job_id).get()
    data = snapshot.to_dict() if snapshot.exists else None
    if not data:
        return
    try:
        kind.on_job_change(job_id, data)
    except Exception as error:  # noqa: BLE001 - a mirror must never break the job itself
        logger.warn("job change hook failed", job_id=job_id, error=repr(error))


# ---------------------------------------------------------------- plan


class PlanBusy(Exception):
    """The start trigger is planning this job itself; the plan task is retried until it is done."""


def plan_job(job_id: str, *, inline: bool = False) -> None:
    """Writes the job's items and enqueues them in chunks; a retry continues where it stopped.

    `inline` is the start trigger planning a small job itself; the plan task then waits for
    its lease (`inline_until`) to end, and only plans if the trigger did not finish."""
    job = store.load_job(job_id)
    if job is None or job.status != "processing":
        return
    plan_ref = store.engine_ref(job_id, "plan")
    plan_state = plan_ref.get().to_dict() or {}
    if plan_state.get("enqueued_all"):
        return
    if not inline and (plan_state.get("inline_until") or now()) > now():
        plan_state = _wait_for_inline_plan(job_id)
        if plan_state.get("enqueued_all"):
            return
    if job.cancel_requested:
        plan_ref.set({"total": 0, "enqueued_all": True})
        finalize_job(job_id)
        return
    kind = _kind_of(job)
    if plan_state.get("items_written"):  # a continuation: the items are final, only tasks remain
        total = int(plan_state.get("total", 0))
    else:
        try:
            input, options = validated(kind, job)
            total = _write_items(job_id, kind.plan(job, input, options))
        except JobFailed as failure:
            fail_job(job_id, ErrorInfo(code=failure.code, message=failure.message))
            return
        store.job_ref(job_id).update(
            {
                "progress.total": total,
                "heartbeat_at": SERVER_TIMESTAMP,
                "updated_at": SERVER_TIMESTAMP,
            }
        )
        # Merged, with no `enqueued_all: False`: a duplicate run of this task (a retry while the
        # first is still going) must never take back a finished plan's `enqueued_all: True`.
        plan_ref.set(
            {"total": total, "shards": store.shards_for(total), "planned_at": SERVER_TIMESTAMP, "items_written": True},
            merge=True,
        )
    if not _enqueue_chunks(job_id, kind, first_chunk=int(plan_state.get("enqueued_chunks", 0))):
        return  # out of time: a continuation task enqueues the rest
    plan_ref.update({"enqueued_all": True})
    logger.info("job planned", job_id=job_id, items=total)
    if total == 0:
        finalize_job(job_id)


def _wait_for_inline_plan(job_id: str) -> dict[str, Any]:
    """The plan document once the start trigger's planning ended or its lease ran out.

    Cloud Tasks delivers the safety-net plan task after the lease; the Tasks emulator ignores
    the delay and delivers it at once, so it waits here (a small plan takes a second or two)
    rather than failing into a retry. PlanBusy if the trigger is still at it after a while."""
    plan_ref = store.engine_ref(job_id, "plan")
    waited_until = time.monotonic() + INLINE_PLAN_WAIT.total_seconds()
    while time.monotonic() < waited_until:
        time.sleep(0.25)  # the caller has just read the plan document and seen the lease
        state = plan_ref.get().to_dict() or {}
        if state.get("enqueued_all") or (state.get("inline_until") or now()) <= now():
            return state
    raise PlanBusy(f"job {job_id} is being planned by its start trigger")


def _enqueue_chunks(job_id: str, kind: JobKind, first_chunk: int) -> bool:
    """Enqueues the chunk tasks from `first_chunk` on, recording how far it got every few
    seconds. Near the plan task's deadline it hands the rest to a continuation plan task and
    returns False, so a plan of any size finishes (a million users is hours of enqueueing)."""
    plan_ref = store.engine_ref(job_id, "plan")
    started = saved = time.monotonic()

    def enqueue(numbered: tuple[int, list[str]]) -> None:
        index, chunk = numbered
        platform.enqueue(kind.queue, {"job_id": job_id, "item_ids": chunk}, task_id=f"{job_id}-c{index}")

    # The items no longer change, so listing them in id order numbers the chunks the same way
    # in every run. Each enqueue is a round trip to Cloud Tasks: several go at once.
    chunks = enumerate(batched(_item_ids(job_id), kind.chunk_size))
    with ThreadPoolExecutor(ENQUEUE_THREADS) as pool:
        for window in batched(chunks, ENQUEUE_THREADS * 8):
            list(pool.map(enqueue, [chunk for chunk in window if chunk[0] >= first_chunk]))
            following = window[-1][0] + 1
            if time.monotonic() - started > PLAN_TIME_BUDGET.total_seconds():
                plan_ref.update({"enqueued_chunks": following})
                platform.enqueue(PLAN_QUEUE, {"job_id": job_id}, task_id=f"{job_id}-plan-{following}")
                logger.info("plan continues in another task", job_id=job_id, enqueued_chunks=following)
                return False
            if time.monotonic() - saved > PLAN_SAVE_INTERVAL.total_seconds():
                plan_ref.update({"enqueued_chunks": following})  # a killed run's retry skips these
                saved = time.monotonic()
    return True


def _write_items(job_id: str, specs: Any) -> int:
    """Creates item documents that do not exist yet; returns how many items the job has."""
    db = platform.db()
    items = store.items_ref(job_id)
    total = 0
    seen: set[str] = set()
    for chunk in batched(specs, WRITE_BATCH):
        refs = []
        for spec in chunk:
            if spec.id in seen:
                raise JobFailed("internal", f"Item id {spec.id!r} is planned twice.")
            seen.add(spec.id)
            refs.append((items.document(spec.id), spec))
        existing = {snap.id for snap in db.get_all([ref for ref, _ in refs]) if snap.exists}
        batch = db.batch()
        for ref, spec in refs:
            if ref.id not in existing:
                batch.set(
                    ref,
                    {
                        "label": spec.label,
                        "payload": spec.payload,
                        "status": "pending",
                        "attempts": 0,
                        "created_at": SERVER_TIMESTAMP,
                    },
                )
        batch.commit()
        total += len(refs)
    return total


def _item_ids(job_id: str) -> Iterator[str]:
    for snap in store.paged(store.items_ref(job_id).select([])):
        yield snap.id


def _kind_of(job: Job) -> JobKind:
    kind = get_kind(job.type)
    if kind is None:
        raise JobFailed("invalid-argument", f"Unknown job type {job.type!r}.")
    return kind


# ---------------------------------------------------------------- items


class _Context:
    """What a running item sees of the engine: cancellation and heartbeats, both throttled."""

    def __init__(self, job: Job, item_label: str) -> None:
        self.job = job
        self._label = item_label
        self._checked_at = time.monotonic()
        self._cancelled = job.cancel_requested
        self._beat_at = 0.0

    def cancelled(self) -> bool:
        if not self._cancelled and time.monotonic() - self._checked_at > 2:
            self._checked_at = time.monotonic()
            latest = store.load_job(self.job.id)
            self._cancelled = latest is None or latest.cancel_requested or latest.terminal
        return self._cancelled

    def heartbeat(self, fraction: float | None = None) -> None:
        if time.monotonic() - self._beat_at >= PROGRESS_INTERVAL.total_seconds():
            self._beat_at = time.monotonic()
            update_progress(self.job.id, current=self._label, partial=fraction)


def run_items(job_id: str, item_ids: list[str]) -> None:
    """Runs a chunk of items; raises (so the task is retried) only if some item must wait."""
    busy = []
    transient: BaseException | None = None
    for item_id in item_ids:
        job = _recent_job(job_id)
        if job is None or job.terminal:
            return
        kind = _kind_of(job)
        try:
            outcome = _run_one(job, kind, item_id)
        except ItemBusy:
            busy.append(item_id)
            continue
        except TRANSIENT_ERRORS as error:
            transient = error
            continue
        if outcome:
            update_progress(job_id)
    # Once per chunk, after our settles: of the chunks that finish last, at least one sees
    # every item settled (its own writes precede its read) and finalizes. Also when this
    # chunk settled nothing new: a retry after a crash may be the last word on the job.
    after_item_settled(job_id)
    if transient is not None:
        raise TransientError(f"retrying: {transient}") from transient
    if busy:
        raise ItemBusy(f"items held by another worker: {busy}")


# Per-process memory that saves Firestore reads per item (a worker runs many items of a job).
_job_cache: dict[str, tuple[float, Job | None]] = {}
_plan_totals: dict[str, int] = {}  # a plan's total never changes once all its items are enqueued
_shards: dict[str, int] = {}
_progress_checked: dict[str, float] = {}


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


def _counter_shards(job_id: str) -> int:
    """The job's counter shards, fixed when it was planned (before any item could run)."""
    if job_id not in _shards:
        _read_plan(job_id)
    return _shards[job_id]


def _read_plan(job_id: str) -> None:
    """Caches what never changes once set: the shard count, and the total once all is enqueued."""
    plan = store.engine_ref(job_id, "plan").get().to_dict() or {}
    if len(_shards) > 1000:
        _shards.clear()
        _plan_totals.clear()
    _shards[job_id] = int(plan.get("shards", store.COUNTER_SHARDS))
    if plan.get("enqueued_all"):
        _plan_totals[job_id] = int(plan.get("total", 0))


def _run_one(job: Job, kind: JobKind, item_id: str) -> bool:
    """Runs one item unless it is settled or held; True when this call settled it."""
    if job.cancel_requested:
        return _settle(job.id, item_id, None, "cancelled")
    claim = _claim_item(job.id, item_id, kind)
    if claim is None:
        return False
    item = claim.item
    if item.attempt > MAX_ITEM_ATTEMPTS:
        message = f"Gave up after {MAX_ITEM_ATTEMPTS} attempts (the worker kept dying or timing out)."
        return _settle(job.id, item_id, claim, "failed", error=ErrorInfo(code="too-many-attempts", message=message))
    update_progress(job.id, current=item.label)
    started = time.monotonic()
    input, options = validated(kind, job)
    error: ErrorInfo | None = None
    result: dict[str, Any] | None = None
    try:
        result = kind.process_item(_Context(job, item.label), item, input, options)
    except ItemFailed as failure:
        error = ErrorInfo(code=failure.code, message=failure.message)
    except ItemCancelled:
        return _settle(job.id, item_id, claim, "cancelled", started=started)
    except TRANSIENT_ERRORS as transient:
        if item.attempt < MAX_ITEM_ATTEMPTS:
            _release_item(job.id, item_id, claim.attempt_id)
            raise
        error = ErrorInfo(code="unavailable", message=f"Still failing after {item.attempt} attempts: {transient}")
    except Exception as unexpected:  # noqa: BLE001 - an item that raises fails alone
        if isinstance(unexpected, OSError) and unexpected.errno == errno.ENOSPC:
            error = ErrorInfo(code="no-space", message=_no_space_message(item.label))
        else:
            logger.error("item raised", job_id=job.id, item_id=item_id, error=repr(unexpected))
            error = ErrorInfo(code="internal", message=f"{type(unexpected).__name__}: {unexpected}")
    status = "failed" if error else "done"
    return _settle(job.id, item_id, claim, status, result=result, error=error, started=started)


def _no_space_message(label: str) -> str:
    folder = tempfile.gettempdir()
    size_mb = shutil.disk_usage(folder).total / 2**20
    return (
        f"Ran out of temporary disk space while processing {label} "
        f"({size_mb:.0f} MB in {folder}, shared by the items this instance works on). "
        "Try a smaller input (for a video: fewer or lower renditions), or give the function more "
        "memory (its /tmp lives in memory)."
    )


@dataclasses.dataclass(frozen=True)
class _Claim:
    item: Item
    attempt_id: str
    written_at: dt.datetime
    """The item's update time after our claim: settling is conditional on it (nobody wrote since)."""


def _claim_item(job_id: str, item_id: str, kind: JobKind) -> _Claim | None:
    """Takes an item's lease with one conditional write (no transaction: two RPCs, not three).

    The write only lands if the item is unchanged since we read it, which is what a
    transaction over this one document would guarantee."""
    ref = store.items_ref(job_id).document(item_id)
    attempt_id = uuid.uuid4().hex
    for _ in range(3):
        snapshot = ref.get()
        if not snapshot.exists:
            logger.warn("task names an unknown item", job_id=job_id, item_id=item_id)
            return None
        data = snapshot.to_dict() or {}
        if data.get("status") in SETTLED_ITEM_STATUSES:
            return None  # a duplicate delivery: the work is done
        lease = data.get("lease_until")
        if data.get("status") == "running" and lease is not None and lease > now():
            raise ItemBusy(item_id)
        attempt = int(data.get("attempts", 0)) + 1
        fields = {
            "status": "running",
            "attempts": attempt,
            "attempt_id": attempt_id,
            "lease_until": now() + dt.timedelta(seconds=kind.item_timeout_seconds),
            "started_at": SERVER_TIMESTAMP,
        }
        try:
            written = ref.update(fields, option=platform.db().write_option(last_update_time=snapshot.update_time))
        except gexc.FailedPrecondition:
            continue  # another worker wrote the item between our read and our write: look again
        item = Item(
            id=item_id, label=str(data.get("label", item_id)), payload=dict(data.get("payload") or {}), attempt=attempt
        )
        return _Claim(item, attempt_id, written.update_time)
    raise ItemBusy(item_id)


def _release_item(job_id: str, item_id: str, attempt_id: str) -> None:
    """Gives an item back (after a transient error) so that the retried task can take it."""

    @gfs.transactional
    def release(transaction: gfs.Transaction) -> None:
        ref = store.items_ref(job_id).document(item_id)
        data = ref.get(transaction=transaction).to_dict() or {}
        if data.get("attempt_id") == attempt_id and data.get("status") == "running":
            transaction.update(ref, {"status": "pending", "lease_until": None})

    release(platform.db().transaction())


def _settle(
    job_id: str,
    item_id: str,
    claim: _Claim | None,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: ErrorInfo | None = None,
    started: float | None = None,
) -> bool:
    """Records an item's outcome and counts it, exactly once; False if it was already settled.

    With our claim in hand this is one atomic batch, conditional on the item being unchanged
    since we claimed it; anything else (no claim, or the item changed) is decided in a
    transaction."""
    ref = store.items_ref(job_id).document(item_id)
    fields: dict[str, Any] = {
        "status": status,
        "result": result,
        "error": error.model_dump() if error else None,
        "finished_at": SERVER_TIMESTAMP,
        "lease_until": None,
    }
    if started is not None:
        fields["duration_ms"] = round((time.monotonic() - started) * 1000)
    counter = store.counter_ref(job_id, item_id, _counter_shards(job_id))
    db = platform.db()
    if claim is not None:
        batch = db.batch()
        batch.update(ref, fields, option=db.write_option(last_update_time=claim.written_at))
        batch.set(counter, store.count_increment(status), merge=True)
        try:
            batch.commit()
            return True
        except gexc.FailedPrecondition:
            pass  # the item changed since our claim: look at it properly
    attempt_id = claim.attempt_id if claim else None

    @gfs.transactional
    def settle(transaction: gfs.Transaction) -> bool:
        snapshot = ref.get(transaction=transaction)
        data = snapshot.to_dict() or {}
        if not snapshot.exists or data.get("status") in SETTLED_ITEM_STATUSES:
            return False
        if attempt_id is not None and data.get("attempt_id") != attempt_id:
            return False  # our lease ran out and another worker took the item over
        if attempt_id is None and data.get("status") == "running" and (data.get("lease_until") or now()) > now():
            raise ItemBusy(item_id)  # being worked on: it settles itself
        transaction.update(ref, fields)
        transaction.set(counter, store.count_increment(status), merge=True)
        return True

    settled: bool = settle(db.transaction())
    return settled


def after_item_settled(job_id: str) -> None:
    counts = store.read_counts(job_id)
    total = _planned_total(job_id)
    if total is not None and counts.settled >= total:
        finalize_job(job_id)
    else:
        update_progress(job_id, counts=counts)


# ---------------------------------------------------------------- progress


def update_progress(
    job_id: str,
    *,
    counts: store.Counts | None = None,
    current: str | None = None,
    partial: float | None = None,
    force: bool = False,
) -> None:
    """Writes progress, current item and heartbeat to the job, at most about once a second.

    The write is conditional on the document not having changed since it was read, so
    concurrent workers never move `percent` backwards.
    """
    checked = _progress_checked.get(job_id, 0.0)
    if not force and time.monotonic() - checked < PROGRESS_INTERVAL.total_seconds():
        return  # this process looked less than a second ago: not even a read
    if len(_progress_checked) > 1000:
        _progress_checked.clear()
    _progress_checked[job_id] = time.monotonic()
    ref = store.job_ref(job_id)
    snapshot = ref.get()
    if not snapshot.exists:
        return
    job = Job.from_document(job_id, snapshot.to_dict())
    if job.status != "processing":
        return
    last = job.heartbeat_at
    first_current = current is not None and job.current is None  # show the first item at once
    if not force and not first_current and last is not None and now() - last < PROGRESS_INTERVAL:
        return
    counts = counts or store.read_counts(job_id)
    total = job.progress.total
    fields: dict[str, Any] = {
        "progress": {
            "total": total,
            "done": max(job.progress.done, counts.done),
            "failed": max(job.progress.failed, counts.failed),
            "percent": max(job.progress.percent, _percent(counts.processed, partial, total)),
        },
        "heartbeat_at": SERVER_TIMESTAMP,
        "updated_at": SERVER_TIMESTAMP,
    }
    if current is not None:
        fields["current"] = current
    if counts.failed > len(job.errors) and len(job.errors) < MAX_ERRORS_ON_JOB:
        fields["errors"] = [e.model_dump() for e in _first_item_errors(job_id)]
    # Someone else writing first is fine: the next update carries our counts.
    try:
        ref.update(fields, option=platform.db().write_option(last_update_time=snapshot.update_time))
    except gexc.FailedPrecondition:
        return
    notify_change(job_id, job.type)


def _percent(processed: int, partial: float | None, total: int) -> int:
    """Settled items, plus how far the running item says it is; 100 only when all are done."""
    if not partial or total <= 0:
        return percent_of(processed, total)
    return min(99, int((processed + max(0.0, min(partial, 1.0))) * 100 / total))


def _first_item_errors(job_id: str) -> list[ItemErrorInfo]:
    failed = store.items_ref(job_id).where(filter=gfs.FieldFilter("status", "==", "failed"))
    errors = []
    for snap in failed.limit(MAX_ERRORS_ON_JOB).stream():
        data = snap.to_dict() or {}
        error = data.get("error") or {}
        errors.append(
            ItemErrorInfo(
                item=str(data.get("label", snap.id)),
                code=str(error.get("code", "unknown")),
                message=str(error.get("message", "")),
            )
        )
    return errors


# ---------------------------------------------------------------- finish


def finalize_job(job_id: str, stalled: ErrorInfo | None = None) -> bool:
    """Sums the job up and ends it, exactly once. `stalled` ends it as failed with that error."""
    if not _claim_finalize(job_id):
        return False
    job = store.load_job(job_id)
    if job is None or job.terminal:
        return False
    counts = store.read_counts(job_id)
    total = max(job.progress.total, int((store.engine_ref(job_id, "plan").get().to_dict() or {}).get("total", 0)))
    summary = Summary(
        total=total,
        done=counts.done,
        failed=counts.failed,
        cancelled=counts.cancelled,
        items=lambda: _settled_items(job_id),
    )
    try:
        outcome = _kind_of(job).finalize(job, summary)
    except JobFailed as failure:
        outcome = Outcome({}, ErrorInfo(code=failure.code, message=failure.message))
    except TRANSIENT_ERRORS:
        store.engine_ref(job_id, "finalize").update({"lease_until": now()})
        raise
    except Exception as error:  # noqa: BLE001 - the job must still end
        logger.error("finalize raised", job_id=job_id, error=repr(error))
        outcome = Outcome({}, ErrorInfo(code="internal", message=f"{type(error).__name__}: {error}"))

    if stalled is not None:
        status, error_info = "failed", stalled
    elif counts.cancelled > 0 or (job.cancel_requested and total == 0):
        status, error_info = "cancelled", None
    elif outcome.error is not None:
        status, error_info = "failed", outcome.error
    else:
        status, error_info = "completed", None
    percent = 100 if status == "completed" else max(job.progress.percent, percent_of(counts.processed, total))

    @gfs.transactional
    def end(transaction: gfs.Transaction) -> bool:
        ref = store.job_ref(job_id)
        data = ref.get(transaction=transaction).to_dict() or {}
        if data.get("status") != "processing":
            return False
        transaction.update(
            ref,
            {
                "status": status,
                "progress": {"total": total, "done": counts.done, "failed": counts.failed, "percent": percent},
                "current": None,
                "result": outcome.result,
                "error": error_info.model_dump() if error_info else None,
                "errors": [e.model_dump() for e in _first_item_errors(job_id)] if counts.failed else [],
                "finished_at": SERVER_TIMESTAMP,
                "updated_at": SERVER_TIMESTAMP,
                "heartbeat_at": SERVER_TIMESTAMP,
            },
        )
        transaction.set(store.engine_ref(job_id, "finalize"), {"state": "done"}, merge=True)
        return True

    ended: bool = end(platform.db().transaction())
    if ended:
        notify_change(job_id, job.type)
    logger.info("job finished", job_id=job_id, status=status, done=counts.done, failed=counts.failed)
    return ended


def _claim_finalize(job_id: str) -> bool:
    @gfs.transactional
    def claim(transaction: gfs.Transaction) -> bool:
        ref = store.engine_ref(job_id, "finalize")
        data = ref.get(transaction=transaction).to_dict() or {}
        if data.get("state") == "done":
            return False
        lease = data.get("lease_until")
        if data.get("state") == "running" and lease is not None and lease > now():
            return False
        transaction.set(ref, {"state": "running", "lease_until": now() + FINALIZE_LEASE})
        return True

    claimed: bool = claim(platform.db().transaction())
    return claimed


def _settled_items(job_id: str) -> Iterator[ItemRecord]:
    for snap in store.paged(store.items_ref(job_id), page_size=500):
        data = snap.to_dict() or {}
        error = data.get("error")
        yield ItemRecord(
            id=snap.id,
            label=str(data.get("label", snap.id)),
            status=str(data.get("status")),
            result=data.get("result"),
            error=ErrorInfo.model_validate(error) if isinstance(error, dict) else None,
        )
