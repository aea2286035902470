"""Starting a job, once: the start trigger validates a queued job, claims it in a transaction
(duplicate events lose that race) and schedules its planning, planning small jobs itself."""

from __future__ import annotations

import datetime as dt

import pydantic
from firebase_functions import logger

from mediajobs import incidents, logs
from mediajobs.jobs import item_state, outbox, planning_state, queues, state, store
from mediajobs.jobs.announce import announce_end, notify_started
from mediajobs.jobs.docstore import Transaction, Write
from mediajobs.jobs.finish import fail_job
from mediajobs.jobs.kinds import JobFailed, get_kind
from mediajobs.jobs.models import ErrorInfo, Job, JobStatus
from mediajobs.jobs.plan import INLINE_PLAN_LEASE, PLAN_QUEUE, plan_claimed
from mediajobs.jobs.store import now
from mediajobs.jobs.validate import validated
from mediajobs.validation import describe


def start_job(job_id: str) -> bool:
    """Claims a queued job (only one caller ever wins) and schedules its planning."""
    try:
        job = store.load_job(job_id)
    except pydantic.ValidationError as error:  # written by hand or by an old client
        message = f"The job document is malformed: {describe(error)}"
        if _claim_queued(job_id, failed=ErrorInfo(code="invalid-argument", message=message)) is not None:
            logger.warn("job rejected", job_id=job_id, code="invalid-argument", message=message)
            announce_end(job_id, "")
        return False
    if job is None or job.status != JobStatus.QUEUED:
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

    # Planned inline, the plan task enqueued below is only a safety net in case this worker dies.
    claimed = _claim_queued(job_id, failed=problem, inline_until=now() + INLINE_PLAN_LEASE if inline else None)
    if claimed is None:
        logger.info("job already claimed", job_id=job_id)
        return False
    if claimed != JobStatus.PROCESSING:  # it ended right here: rejected, or cancelled before it started
        announce_end(job_id, job.type)
        if problem is not None:
            logger.warn("job rejected", job_id=job_id, code=problem.code, message=problem.message)
        return True
    notify_started(job_id, job.type)
    try:
        delay = int(INLINE_PLAN_LEASE.total_seconds()) if inline else None
        queues.enqueue(PLAN_QUEUE, {"job_id": job_id}, task_id=f"{job_id}-plan", delay_seconds=delay)
    except Exception as error:  # noqa: BLE001 - nothing else would ever pick this job up
        incident_id = incidents.new_incident_id()
        logs.log_failure("could not schedule job", error, job_id=job_id, job_type=job.type, incident_id=incident_id)
        message = "Could not schedule the job; start it again in a few minutes"
        fail_job(job_id, ErrorInfo.incident("unavailable", message, incident_id))
        return True
    logger.info("job started", job_id=job_id, type=job.type, planned_inline=inline)
    if inline:
        _plan_inline(job)
    return True


def _plan_inline(job: Job) -> None:
    """Plans a small job in the start trigger; on a failure a plan task takes over at once
    (and if even that cannot be enqueued, the delayed safety-net task does, after the lease)."""
    job_id = job.id
    try:
        plan_claimed(job)
    except item_state.FinalizeBusy:  # an item's worker is ending the job; the safety net checks it did
        logger.info("planned inline; another worker finalizes the job", job_id=job_id)
    except Exception as error:  # noqa: BLE001 - the plan task retries whatever this was
        logger.warn("inline planning failed; the plan task takes over", job_id=job_id, error=repr(error))
        _mark_inline_planning(job_id, None)
        queues.enqueue(PLAN_QUEUE, {"job_id": job_id}, task_id=f"{job_id}-plan-now")


def _mark_inline_planning(job_id: str, until: dt.datetime | None) -> None:
    store.docs().commit([Write(store.engine_path(job_id, "plan"), planning_state.inline_planning(until), "merge")])


def _claim_queued(job_id: str, failed: ErrorInfo | None, inline_until: dt.datetime | None = None) -> JobStatus | None:
    """Claims a queued job: the status it now has (processing, or ended at once), None if it
    was not queued. A job that goes on to be planned by the start trigger (`inline_until`) gets
    that lease on its plan in the same commit."""
    path = store.job_path(job_id)

    def claim(transaction: Transaction) -> JobStatus | None:
        data = transaction.get(path).data
        claimed = state.claim_queued(data, failed=failed, expire_at=store.expires_at())
        if data is None or claimed is None:
            return None
        status, fields = claimed
        if status != JobStatus.PROCESSING:
            outbox.stage(transaction, job_id, data, status)
        elif inline_until is not None:
            transaction.write(
                Write(store.engine_path(job_id, "plan"), planning_state.inline_planning(inline_until), "merge")
            )
        transaction.write(Write(path, fields))
        return status

    return store.docs().run(claim)
