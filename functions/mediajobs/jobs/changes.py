"""What happens when the engine has written a job: its kind may mirror it elsewhere."""

from __future__ import annotations

from firebase_functions import logger

from mediajobs.jobs import store
from mediajobs.jobs.kinds import JobKind, get_kind


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
