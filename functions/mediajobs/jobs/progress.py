"""Progress on the job document: counts, current item and heartbeat, written at most about
once a second (Firestore's sustained limit per document) and never backwards."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import platform
from mediajobs.jobs import store
from mediajobs.jobs.changes import notify_change
from mediajobs.jobs.models import MAX_ERRORS_ON_JOB, ItemErrorInfo, Job, percent_of
from mediajobs.jobs.store import SERVER_TIMESTAMP, now

_progress_checked: dict[str, float] = {}


PROGRESS_INTERVAL = dt.timedelta(seconds=1)  # at most about one job write per second


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
        fields["errors"] = [e.model_dump() for e in first_item_errors(job_id)]
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


def first_item_errors(job_id: str) -> list[ItemErrorInfo]:
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
