"""Starting a job, once: the start trigger validates a queued job, claims it in a transaction
(duplicate events lose that race) and schedules its planning, planning small jobs itself."""

from __future__ import annotations

from typing import Any

import pydantic
from firebase_functions import logger
from google.cloud import firestore as gfs

from mediajobs import incidents, logs, platform
from mediajobs.jobs import outbox, store
from mediajobs.jobs.changes import notify_change, notify_ended
from mediajobs.jobs.finish import fail_job
from mediajobs.jobs.kinds import JobFailed, get_kind
from mediajobs.jobs.models import ErrorInfo, JobStatus
from mediajobs.jobs.plan import INLINE_PLAN_LEASE, PLAN_QUEUE, plan_job
from mediajobs.jobs.store import SERVER_TIMESTAMP, now
from mediajobs.jobs.validate import validated
from mediajobs.validation import describe


def start_job(job_id: str) -> bool:
    """Claims a queued job (only one caller ever wins) and schedules its planning."""
    try:
        job = store.load_job(job_id)
    except pydantic.ValidationError as error:  # written by hand or by an old client
        message = f"The job document is malformed: {describe(error)}"
        if _claim_queued(job_id, failed=ErrorInfo(code="invalid-argument", message=message)):
            logger.warn("job rejected", job_id=job_id, code="invalid-argument", message=message)
            notify_ended(job_id)
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
    if problem is not None or job.cancel_requested:  # it ended right here
        notify_ended(job_id)
    if problem is not None:
        logger.warn("job rejected", job_id=job_id, code=problem.code, message=problem.message)
        return True
    try:
        if inline:  # the plan task below is then only a safety net, in case this worker dies
            store.engine_ref(job_id, "plan").set({"inline_until": now() + INLINE_PLAN_LEASE}, merge=True)
        delay = int(INLINE_PLAN_LEASE.total_seconds()) if inline else None
        platform.enqueue(PLAN_QUEUE, {"job_id": job_id}, task_id=f"{job_id}-plan", delay_seconds=delay)
    except Exception as error:  # noqa: BLE001 - nothing else would ever pick this job up
        incident_id = incidents.new_incident_id()
        logs.log_failure("could not schedule job", error, job_id=job_id, job_type=job.type, incident_id=incident_id)
        message = "Could not schedule the job; start it again in a few minutes"
        fail_job(job_id, ErrorInfo.incident("unavailable", message, incident_id))
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
            fields.update(status=JobStatus.CANCELLED.value, finished_at=SERVER_TIMESTAMP, result={})
        elif failed is not None:
            fields.update(status=JobStatus.FAILED.value, error=failed.model_dump(), finished_at=SERVER_TIMESTAMP)
        else:
            fields.update(status=JobStatus.PROCESSING.value)
        if fields["status"] != JobStatus.PROCESSING:
            outbox.stage(transaction, job_id, data, str(fields["status"]))
        for key, default in (
            ("progress", {"total": 0, "done": 0, "failed": 0, "percent": 0}),
            ("errors", []),
            ("current", None),
            ("cancel_requested", False),
            ("result", None),
            ("error", None),
            ("created_at", SERVER_TIMESTAMP),
            ("expire_at", store.expires_at()),  # a job written by a trusted writer without one
        ):
            if key not in data and key not in fields:
                fields[key] = default
        transaction.update(ref, fields)
        return True

    result: bool = claim(platform.db().transaction())
    return result
