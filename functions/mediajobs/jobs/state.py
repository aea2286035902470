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

from mediajobs.jobs.docstore import DELETE, SERVER_TIME
from mediajobs.jobs.models import (
    ACTIVE_STATUSES,
    MAX_LABEL_BYTES,
    TERMINAL_STATUSES,
    ErrorInfo,
    ItemErrorInfo,
    Job,
    JobStatus,
    PlanState,
    clip,
    compact_result,
    percent_of,
)


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
