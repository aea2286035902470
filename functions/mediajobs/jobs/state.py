"""Every change the engine makes to its own records, as pure functions of (record, now).

Each transition looks at a record as read and returns the fields to write (or None when there
is nothing to do, or raises when someone else holds the record); the caller applies them with a
precondition (the record unchanged since it was read, or inside a transaction). Nothing here
touches Firestore, so each decision is tested on its own (tests/unit/test_engine_state.py), and
the protocols built on them run on an in-memory store too (jobs/docstore.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

import pydantic

from mediajobs.jobs.docstore import DELETE, SERVER_TIME, Increment
from mediajobs.jobs.models import (
    ACTIVE_STATUSES,
    MAX_LABEL_BYTES,
    SETTLED_ITEM_STATUSES,
    TERMINAL_STATUSES,
    ErrorInfo,
    ItemDoc,
    ItemErrorInfo,
    ItemStatus,
    Job,
    JobStatus,
    PlanState,
    clip,
    compact_result,
    percent_of,
)


class ItemBusy(Exception):
    """Another worker holds an item's lease; the task is retried after the lease runs out."""


class PlanBusy(Exception):
    """Another planner (the start trigger or a plan task) holds the plan's lease; the plan task
    is retried until that planner is done or its lease runs out."""


class FinalizeBusy(Exception):
    """Another worker holds the job's finalize lease. The task that met it is retried, so the
    job still ends if that worker dies before it is done (its lease runs out)."""


@dataclasses.dataclass(frozen=True)
class Lease:
    """A claim on a record until a time, by a holder (plan, item and finalize leases alike)."""

    until: dt.datetime | None
    holder: str | None = None

    def held(self, at: dt.datetime) -> bool:
        """True while it runs (a claim written with no lease, by an old engine, holds none)."""
        return self.until is not None and self.until > at

    def blocks(self, holder: str | None, at: dt.datetime) -> bool:
        """True when it runs and belongs to someone other than `holder`."""
        return self.held(at) and self.holder != holder


# ---- Items ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ItemClaim:
    fields: dict[str, Any]
    attempt: int


def claim_item(doc: ItemDoc | None, *, attempt_id: str, at: dt.datetime, lease: dt.timedelta) -> ItemClaim | None:
    """Takes an item for one attempt. None: unknown or already settled (a duplicate delivery);
    ItemBusy: a live worker holds it (a dead one's lease runs out)."""
    if doc is None or doc.status in SETTLED_ITEM_STATUSES:
        return None
    if doc.status == ItemStatus.RUNNING and Lease(doc.lease_until).held(at):
        raise ItemBusy("the item is being worked on")
    attempt = doc.attempts + 1
    fields = {
        "status": ItemStatus.RUNNING.value,
        "attempts": attempt,
        "attempt_id": attempt_id,
        "lease_until": at + lease,
        "started_at": SERVER_TIME,
    }
    return ItemClaim(fields, attempt)


def renew_item(at: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    return {"lease_until": at + lease}


def may_settle(doc: ItemDoc | None, *, attempt_id: str | None, at: dt.datetime) -> bool:
    """Whether this caller may record the item's outcome now: not when it is settled already or
    another attempt took it over; ItemBusy when someone else is working on it."""
    if doc is None or doc.status in SETTLED_ITEM_STATUSES:
        return False
    if attempt_id is not None:
        return doc.attempt_id == attempt_id  # else our lease ran out and another worker took over
    if doc.status == ItemStatus.RUNNING and Lease(doc.lease_until).held(at):
        raise ItemBusy("the item is being worked on; it settles itself")
    return True


def settled_item(
    status: ItemStatus,
    *,
    result: dict[str, Any] | None = None,
    error: ErrorInfo | None = None,
    duration_ms: int | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": status.value,
        "result": result,
        "error": error.model_dump() if error else None,
        "finished_at": SERVER_TIME,
        "lease_until": None,
    }
    if duration_ms is not None:
        fields["duration_ms"] = duration_ms
    return fields


SETTLED_FIELD = "settled"  # a shard's items settled whatever their outcome (its new total comes back with the commit)


def counted(status: ItemStatus, expire_at: dt.datetime) -> dict[str, Any]:
    """The counter shard's change for one settled item."""
    return {status.value: Increment(1), SETTLED_FIELD: Increment(1), "expire_at": expire_at}


def released_item(doc: ItemDoc | None, attempt_id: str) -> dict[str, Any] | None:
    """Gives an item back after a transient error, if it is still this attempt's."""
    if doc is None or doc.attempt_id != attempt_id or doc.status != ItemStatus.RUNNING:
        return None
    return {"status": ItemStatus.PENDING.value, "lease_until": None}


def checkpoint_saved(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A running item's checkpoint (what a retry resumes from), written under its lease."""
    return {"checkpoint": checkpoint}


# ---- Counter shards -------------------------------------------------------------------------


class Shard(pydantic.BaseModel):
    """jobs/{id}/counters/{n}: how many of its items settled, and how many it owns (set by the
    plan before any item can run; None for jobs planned before shards knew their items)."""

    model_config = pydantic.ConfigDict(extra="ignore")

    done: int = 0
    failed: int = 0
    cancelled: int = 0
    owned: int | None = None

    @property
    def settled(self) -> int:
        return self.done + self.failed + self.cancelled

    @property
    def complete(self) -> bool:
        return self.owned is not None and self.settled >= self.owned


# ---- Finalize -------------------------------------------------------------------------------


class FinalizeState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"


class FinalizeMarker(pydantic.BaseModel):
    """jobs/{id}/engine/finalize: who sums the job up, and whether it is done."""

    model_config = pydantic.ConfigDict(extra="ignore")

    state: FinalizeState | None = None
    lease_until: dt.datetime | None = None


def claim_finalize(
    marker: FinalizeMarker, *, at: dt.datetime, lease: dt.timedelta, expire_at: dt.datetime
) -> dict[str, Any] | None:
    """Takes the finalize lease; None when finalize is done, FinalizeBusy while another worker's
    lease on it runs."""
    if marker.state == FinalizeState.DONE:
        return None
    if marker.state == FinalizeState.RUNNING and Lease(marker.lease_until).held(at):
        raise FinalizeBusy("the job is being summed up by another worker")
    return {"state": FinalizeState.RUNNING.value, "lease_until": at + lease, "expire_at": expire_at}


def finalize_done(expire_at: dt.datetime) -> dict[str, Any]:
    return {"state": FinalizeState.DONE.value, "expire_at": expire_at}


def renew_finalize(at: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    return {"lease_until": at + lease}


def finalize_released(at: dt.datetime) -> dict[str, Any]:
    """Finalize gives its lease up at once (a transient failure): the next try need not wait."""
    return {"lease_until": at}


# ---- Plan -----------------------------------------------------------------------------------


def new_item(label: str, payload: dict[str, Any], expire_at: dt.datetime) -> dict[str, Any]:
    """A planned item, pending (its label cut to the byte budget)."""
    return {
        "label": clip(label, MAX_LABEL_BYTES),
        "payload": payload,
        "status": ItemStatus.PENDING.value,
        "attempts": 0,
        "created_at": SERVER_TIME,
        "expire_at": expire_at,
    }


def shard_owns(owned: int, expire_at: dt.datetime) -> dict[str, Any]:
    return {"owned": owned, "expire_at": expire_at}


def items_written(total: int, shards: int, expire_at: dt.datetime) -> dict[str, Any]:
    """The plan, once every item is written (merged: a duplicate planner never takes back a
    finished plan's `enqueued_all`)."""
    return {
        "total": total,
        "shards": shards,
        "shards_own_items": True,
        "planned_at": SERVER_TIME,
        "items_written": True,
        "expire_at": expire_at,
    }


def job_planned(total: int) -> dict[str, Any]:
    """The job, once its items are known."""
    return {"progress.total": total, "heartbeat_at": SERVER_TIME, "updated_at": SERVER_TIME}


def nothing_to_plan() -> dict[str, Any]:
    """The plan of a job cancelled before it was planned."""
    return {"total": 0, "enqueued_all": True}


def enqueued(chunks: int | None = None) -> dict[str, Any]:
    """How far enqueueing got (a continuation starts there); every chunk when None."""
    return {"enqueued_all": True} if chunks is None else {"enqueued_chunks": chunks}


def inline_planning(until: dt.datetime | None) -> dict[str, Any]:
    """The start trigger plans the job itself until then (None: it stopped)."""
    return {"inline_until": until}


def beat() -> dict[str, Any]:
    return {"heartbeat_at": SERVER_TIME}


def take_plan_lease(plan: PlanState, *, planner: str, at: dt.datetime, lease: dt.timedelta) -> dict[str, Any]:
    """Makes `planner` the job's one planner; PlanBusy while another one's lease runs."""
    if Lease(plan.lease_until, plan.planner).blocks(planner, at):
        raise PlanBusy("the job is being planned by another task")
    return {"planner": planner, "lease_until": at + lease}


def renew_plan_lease(plan: PlanState, *, planner: str, at: dt.datetime, lease: dt.timedelta) -> dict[str, Any] | None:
    """The renewal, or None when another planner has taken over."""
    if plan.planner != planner:
        return None
    return {"lease_until": at + lease}


def release_plan_lease(plan: PlanState, *, planner: str) -> dict[str, Any] | None:
    return {"lease_until": None} if plan.planner == planner else None


# ---- Job ------------------------------------------------------------------------------------


def _defaults(data: dict[str, Any], expire_at: dt.datetime) -> dict[str, Any]:
    """Fields every started job has, for documents a trusted writer created with fewer."""
    defaults: dict[str, Any] = {
        "progress": {"total": 0, "done": 0, "failed": 0, "percent": 0},
        "errors": [],
        "current": None,
        "cancel_requested": False,
        "result": None,
        "error": None,
        "created_at": SERVER_TIME,
        "expire_at": expire_at,
    }
    return {key: value for key, value in defaults.items() if key not in data}


def queued_job(document: dict[str, Any]) -> dict[str, Any]:
    """A new job as start_job creates it (`document`: models.new_job_document), server-stamped."""
    return {**document, "created_at": SERVER_TIME, "updated_at": SERVER_TIME}


def ended_status(data: dict[str, Any] | None) -> JobStatus | None:
    """The status a job document ended with; None while it is active (or unknown)."""
    status = (data or {}).get("status")
    return JobStatus(status) if status in TERMINAL_STATUSES else None


def claim_queued(
    data: dict[str, Any] | None, *, failed: ErrorInfo | None, expire_at: dt.datetime
) -> tuple[JobStatus, dict[str, Any]] | None:
    """Starts a queued job: processing, or ended at once (cancelled before it started, or
    `failed` with that error). None when it is not queued (someone else started it)."""
    if data is None or data.get("status") != JobStatus.QUEUED:
        return None
    fields: dict[str, Any] = {"updated_at": SERVER_TIME, "heartbeat_at": SERVER_TIME, "started_at": SERVER_TIME}
    if data.get("cancel_requested"):
        status = JobStatus.CANCELLED
        fields.update(finished_at=SERVER_TIME, result={})
    elif failed is not None:
        status = JobStatus.FAILED
        fields.update(error=failed.model_dump(), finished_at=SERVER_TIME)
    else:
        status = JobStatus.PROCESSING
    fields["status"] = status.value
    fields.update({key: value for key, value in _defaults(data, expire_at).items() if key not in fields})
    return status, fields


def request_cancel(data: dict[str, Any]) -> tuple[JobStatus | str, dict[str, Any] | None]:
    """A queued job is cancelled at once; a processing one is asked to stop (its items not yet
    started are settled cancelled). The job's status after, and the fields to write."""
    status = str(data.get("status"))
    if status == JobStatus.QUEUED:
        fields = {
            "status": JobStatus.CANCELLED.value,
            "cancel_requested": True,
            "result": {},
            "finished_at": SERVER_TIME,
            "updated_at": SERVER_TIME,
        }
        return JobStatus.CANCELLED, fields
    if status == JobStatus.PROCESSING and not data.get("cancel_requested"):
        return JobStatus.PROCESSING, {"cancel_requested": True, "updated_at": SERVER_TIME}
    return status, None


def failed_job(data: dict[str, Any] | None, error: ErrorInfo) -> dict[str, Any] | None:
    """Ends an active job as failed (keeping what it produced); None when it has ended."""
    if data is None or data.get("status") not in ACTIVE_STATUSES:
        return None
    return {
        "status": JobStatus.FAILED.value,
        "error": error.model_dump(),
        "current": None,
        "finished_at": SERVER_TIME,
        "updated_at": SERVER_TIME,
    }


def progress_update(
    job: Job, *, done: int, failed: int, percent: int, current: str | None, errors: list[ItemErrorInfo] | None
) -> dict[str, Any]:
    """Progress on a processing job: counts and percent never go down."""
    fields: dict[str, Any] = {
        "progress": {
            "total": job.progress.total,
            "done": max(job.progress.done, done),
            "failed": max(job.progress.failed, failed),
            "percent": max(job.progress.percent, percent),
        },
        "heartbeat_at": SERVER_TIME,
        "updated_at": SERVER_TIME,
    }
    if current is not None:
        fields["current"] = clip(current, MAX_LABEL_BYTES)
    if errors is not None:
        fields["errors"] = [error.model_dump() for error in errors]
    return fields


def ended(
    job: Job,
    status: JobStatus,
    *,
    total: int,
    done: int,
    failed: int,
    result: dict[str, Any],
    error: ErrorInfo | None,
    errors: list[ItemErrorInfo],
) -> dict[str, Any]:
    """A job's end as finalize writes it: 100 % when completed, else never less than shown."""
    percent = 100 if status == JobStatus.COMPLETED else max(job.progress.percent, percent_of(done + failed, total))
    return {
        "status": status.value,
        "progress": {"total": total, "done": done, "failed": failed, "percent": percent},
        "current": None,
        "result": result,
        "error": error.model_dump() if error else None,
        "errors": [e.model_dump() for e in errors],
        "finished_at": SERVER_TIME,
        "updated_at": SERVER_TIME,
        "heartbeat_at": SERVER_TIME,
    }


def may_end(data: dict[str, Any] | None) -> bool:
    """Only a processing job is ended by finalize (a failed or cancelled one stays so)."""
    return data is not None and data.get("status") == JobStatus.PROCESSING


def smaller(fields: dict[str, Any]) -> dict[str, Any] | None:
    """The one fallback for a job write Firestore refuses for size: without the `errors` list
    first, then with only the result's small fields. None when nothing is left to drop."""
    if fields.get("errors"):
        return {**fields, "errors": []}
    result = fields.get("result")
    if isinstance(result, dict) and result and not result.get("truncated"):
        return {**fields, "result": compact_result(result)}
    return None


# ---- Outbox ---------------------------------------------------------------------------------


def event_staged(
    event: dict[str, Any], status: JobStatus, *, at: dt.datetime, expire_at: dt.datetime
) -> dict[str, Any]:
    """jobs/{id}/engine/event: the job-ended event, staged in the transaction that ends the job."""
    return {"event": event, "status": status.value, "pending_since": at, "published_at": None, "expire_at": expire_at}


def event_published() -> dict[str, Any]:
    return {"published_at": SERVER_TIME, "pending_since": DELETE}


# ---- Sweeper --------------------------------------------------------------------------------


class SweepChoice(enum.StrEnum):
    FINALIZE = "finalize"  # every item settled: sum the job up as usual
    FAIL = "fail"  # work was lost: end it failed (deadline-exceeded), keeping what is done


def sweep_choice(plan: PlanState, settled: int) -> SweepChoice:
    """What to do with a job that stopped moving."""
    if plan.enqueued_all and settled >= plan.total:
        return SweepChoice.FINALIZE
    return SweepChoice.FAIL
