"""What happens when the engine has written a job: its kind may mirror it elsewhere, and a job
that reached a terminal status has its staged event dispatched to other systems (Eventarc,
through jobs/outbox.py; the owner's webhook, push and email, through jobs/notify/) and, when it failed, is
logged for Error Reporting."""

from __future__ import annotations

from typing import Any

from mediajobs import logs
from mediajobs.jobs import outbox, state, store
from mediajobs.jobs.kinds import JobKind, get_kind
from mediajobs.jobs.models import JobStatus
from mediajobs.jobs.notify import announce


def notify_change(job_id: str, job_type: str, job: dict[str, Any] | None = None) -> None:
    """Lets the job's kind mirror the job elsewhere (e.g. onto a scene); only kinds that care pay
    a read (none when the caller passes the document it has just read back, `job`)."""
    kind = get_kind(job_type)
    if kind is None or type(kind).on_job_change is JobKind.on_job_change:
        return
    data = job if job is not None else store.job_ref(job_id).get().to_dict()
    if not data:
        return
    try:
        kind.on_job_change(job_id, data)
    except Exception as error:  # noqa: BLE001 - a mirror must never break the job itself
        logs.log_failure("job change hook failed", error, job_id=job_id, job_type=job_type)


def announce_end(job_id: str, job_type: str) -> None:
    """What whoever ended a job does after the transaction that ended it: the kind's mirror and
    the announcements, from one read of the ended job."""
    data = store.job_ref(job_id).get().to_dict() or {}
    notify_change(job_id, job_type, data)
    notify_ended(job_id, data)


def notify_ended(job_id: str, job: dict[str, Any] | None = None) -> None:
    """Announces a job that has just reached a terminal status (called once, by whoever ended
    it, after the transaction that staged its event; `job`: its document read after that): the
    lifecycle event is dispatched, the owner's webhook, push and email are enqueued if the job
    asks for them, and a failed job gets an Error Reporting entry."""
    data = job if job is not None else store.job_ref(job_id).get().to_dict() or {}
    status = state.ended_status(data)
    if status is None:
        return
    if status == JobStatus.FAILED:
        error = data.get("error") or {}
        error = error if isinstance(error, dict) else {}
        code, message = str(error.get("code", "unknown")), str(error.get("message", ""))
        logs.job_failed(job_id, str(data.get("type", "")), code, message)
    outbox.dispatch(job_id, data)
    announce.job_event(job_id, status, data)


def notify_started(job_id: str, job_type: str) -> None:
    """Announces a job its start trigger has just claimed, from one read of it: the kind's
    mirror, the lifecycle event, and the owner's webhook if it asks."""
    data = store.job_ref(job_id).get().to_dict()
    if not data:
        return
    notify_change(job_id, job_type, data)
    outbox.dispatch_started(job_id, data)
    announce.job_event(job_id, "started", data)
