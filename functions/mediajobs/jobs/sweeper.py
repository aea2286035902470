"""Finds jobs that stopped moving and ends them, so no job stays 'processing' forever.

A job is stale when its heartbeat is older than STALE_AFTER (workers refresh it on every item,
and lease keepers refresh it while long items and plans run). A stale job whose items are all
settled is finalized; otherwise it fails with what it finished kept, and can be started again.
Queued jobs whose start event was lost are started. Each job is handled on its own: one that
cannot be ended normally (a malformed document, a finalize that keeps failing) is failed with
a minimal write, and the sweep goes on with the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from firebase_functions import logger
from google.cloud import firestore as gfs

from mediajobs import cloud, incidents, logs
from mediajobs.jobs import item_state, outbox, state, store
from mediajobs.jobs.finish import fail_job, finalize_job
from mediajobs.jobs.models import ErrorInfo, JobStatus, PlanState
from mediajobs.jobs.start import start_job

STALE_AFTER = dt.timedelta(minutes=15)
QUEUED_TOO_LONG = dt.timedelta(minutes=5)


def sweep_stale_jobs(at: dt.datetime | None = None, limit: int = 200) -> list[str]:
    """Ends or restarts stuck jobs; returns the ids it acted on."""
    at = at or store.now()
    jobs = cloud.db().collection("jobs")
    acted = []
    stale = (
        jobs.where(filter=gfs.FieldFilter("status", "==", JobStatus.PROCESSING.value))
        .where(filter=gfs.FieldFilter("heartbeat_at", "<", at - STALE_AFTER))
        .limit(limit)
    )
    for snap in stale.stream():
        if _isolated(snap.id, "end", _end_stale_unless_busy):
            acted.append(snap.id)
    queued = (
        jobs.where(filter=gfs.FieldFilter("status", "==", JobStatus.QUEUED.value))
        .where(filter=gfs.FieldFilter("created_at", "<", at - QUEUED_TOO_LONG))
        .limit(limit)
    )
    for snap in queued.stream():
        if _isolated(snap.id, "start", start_job):
            logger.warn("started a job whose start event was lost", job_id=snap.id)
            acted.append(snap.id)
    for job_id in outbox.redispatch_stale(at, limit):
        logger.warn("dispatched again a job event that was not published", job_id=job_id)
    return acted


def _end_stale_unless_busy(job_id: str) -> bool:
    """A job another worker is summing up right now is left to it (or to the next sweep)."""
    try:
        return _end_stale(job_id)
    except item_state.FinalizeBusy:
        logger.info("a stale job is being finalized by another worker", job_id=job_id)
        return False


def _end_stale(job_id: str) -> bool:
    job = store.load_job(job_id)
    if job is None:
        return False
    plan = PlanState.model_validate(store.engine_ref(job_id, "plan").get().to_dict() or {})
    counts = store.read_counts(job_id, plan.known_shards)
    age = (store.now() - job.heartbeat_at).total_seconds() if job.heartbeat_at else None
    if state.sweep_choice(plan, counts.settled) == state.SweepChoice.FINALIZE:
        finalize_job(job_id)
        logs.job_swept(job_id, job.type, outcome="finalized", heartbeat_age_seconds=age)
    else:
        minutes = int(STALE_AFTER.total_seconds() // 60)
        message = (
            f"No progress for over {minutes} minutes; {counts.settled} of "
            f"{job.progress.total} items had finished. Start the job again to retry."
        )
        finalize_job(job_id, stalled=ErrorInfo(code="deadline-exceeded", message=message))
        logs.job_swept(job_id, job.type, outcome="failed", heartbeat_age_seconds=age)
    return True


def _isolated(job_id: str, action: str, sweep: Callable[[str], bool]) -> bool:
    """Runs one job's sweep; if it raises, the job is failed with a minimal write (which does not
    depend on its document being readable) and the sweep of the other jobs goes on."""
    try:
        return sweep(job_id)
    except Exception as error:  # noqa: BLE001 - one bad job must not stop the sweep
        incident_id = incidents.new_incident_id()
        logs.log_failure(
            "sweeping a job failed; failing it",
            error,
            job_id=job_id,
            job_type="",
            action=action,
            incident_id=incident_id,
        )
    message = "The job could not be ended normally; what it produced is kept"
    try:
        fail_job(job_id, ErrorInfo.incident("internal", message, incident_id))
    except Exception as again:  # noqa: BLE001
        logger.error("could not fail a stuck job", job_id=job_id, error=repr(again))
        return False
    return True
