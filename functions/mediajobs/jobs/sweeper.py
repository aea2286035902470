"""Finds jobs that stopped moving and ends them, so no job stays 'processing' forever.

A job is stale when its heartbeat is older than STALE_AFTER (workers refresh it at least on
every item, long items through their heartbeats). A stale job whose items are all settled is
finalized; otherwise it fails with what it finished kept, and can be started again. Queued jobs
whose start event was lost are started.
"""

from __future__ import annotations

import datetime as dt

from firebase_functions import logger
from google.cloud import firestore as gfs

from mediajobs import platform
from mediajobs.jobs import store
from mediajobs.jobs.finish import finalize_job
from mediajobs.jobs.models import ErrorInfo, Job
from mediajobs.jobs.start import start_job

STALE_AFTER = dt.timedelta(minutes=15)
QUEUED_TOO_LONG = dt.timedelta(minutes=5)


def sweep_stale_jobs(at: dt.datetime | None = None, limit: int = 200) -> list[str]:
    """Ends or restarts stuck jobs; returns the ids it acted on."""
    at = at or store.now()
    jobs = platform.db().collection("jobs")
    acted = []
    stale = (
        jobs.where(filter=gfs.FieldFilter("status", "==", "processing"))
        .where(filter=gfs.FieldFilter("heartbeat_at", "<", at - STALE_AFTER))
        .limit(limit)
    )
    for snap in stale.stream():
        job = Job.from_document(snap.id, snap.to_dict())
        counts = store.read_counts(job.id)
        plan = store.engine_ref(job.id, "plan").get().to_dict() or {}
        if plan.get("enqueued_all") and counts.settled >= int(plan.get("total", 0)):
            finalize_job(job.id)
        else:
            minutes = int(STALE_AFTER.total_seconds() // 60)
            finalize_job(
                job.id,
                stalled=ErrorInfo(
                    code="deadline-exceeded",
                    message=(
                        f"No progress for over {minutes} minutes; {counts.settled} of "
                        f"{job.progress.total} items had finished. Start the job again to retry."
                    ),
                ),
            )
        logger.warn("swept stale job", job_id=job.id)
        acted.append(job.id)
    queued = (
        jobs.where(filter=gfs.FieldFilter("status", "==", "queued"))
        .where(filter=gfs.FieldFilter("created_at", "<", at - QUEUED_TOO_LONG))
        .limit(limit)
    )
    for snap in queued.stream():
        if start_job(snap.id):
            logger.warn("started a job whose start event was lost", job_id=snap.id)
            acted.append(snap.id)
    return acted
