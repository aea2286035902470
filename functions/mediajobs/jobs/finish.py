"""Ending a job, exactly once: finalize (claimed with a lease) asks the kind for the result
and sets the final status; fail_job ends a job that cannot go on."""

from __future__ import annotations

from collections.abc import Iterator

from firebase_functions import logger
from google.cloud import firestore as gfs

from mediajobs import platform
from mediajobs.jobs import store
from mediajobs.jobs.changes import notify_change
from mediajobs.jobs.kinds import ItemRecord, JobFailed, Outcome, Summary, kind_of
from mediajobs.jobs.leases import claim_finalize
from mediajobs.jobs.models import ErrorInfo, percent_of
from mediajobs.jobs.progress import first_item_errors
from mediajobs.jobs.store import SERVER_TIMESTAMP, now
from mediajobs.jobs.transient import TRANSIENT_ERRORS


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


def finalize_job(job_id: str, stalled: ErrorInfo | None = None) -> bool:
    """Sums the job up and ends it, exactly once. `stalled` ends it as failed with that error."""
    if not claim_finalize(job_id):
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
        outcome = kind_of(job).finalize(job, summary)
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
                "errors": [e.model_dump() for e in first_item_errors(job_id)] if counts.failed else [],
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
