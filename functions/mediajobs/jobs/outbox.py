"""The job-ended event, delivered at least once: staged in the transaction that ends the job,
published with the job's final result and output paths by the worker that ended it, or, when
Eventarc does not take it then, by a retried task. The job-started event is published the same
way, unstaged (`dispatch_started`).

    jobs/{job_id}/engine/event   {event, status, pending_since, published_at, expire_at}

Whoever ends a job calls `stage` inside the transaction that writes the terminal status, so a
job never ends without its event on record, and calls `dispatch` once that transaction has
committed. `dispatch` publishes the staged event at once and marks it published (no task to pay
for in the common case); when Eventarc refuses or does not answer within
DIRECT_PUBLISH_TIMEOUT_SECONDS, it hands the event to the `jobevents` task, which Cloud Tasks
retries with backoff for more than a day. The event's id is fixed by the job
(`{job_id}-{status}`), so a publish repeated after a lost answer is the same event to every
subscriber. A worker that died between the commit and the dispatch leaves
`pending_since` behind, and the sweeper dispatches that event again (`redispatch_stale`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from firebase_functions import logger
from google.cloud import firestore as gfs

from mediajobs import cloud, events
from mediajobs.jobs import queues, state, store
from mediajobs.jobs.docstore import Snapshot, Transaction, Write
from mediajobs.jobs.models import JobStatus

OUTBOX = "event"  # the engine document holding a job's staged event
PUBLISH_QUEUE = "jobevents"
REDISPATCH_AFTER = dt.timedelta(minutes=10)
DIRECT_PUBLISH_TIMEOUT_SECONDS = 3  # the ending worker's own attempt; the queue waits longer


def event_id(job_id: str, status: str) -> str:
    return f"{job_id}-{status}"


def stage(transaction: Transaction, job_id: str, job: dict[str, Any], status: JobStatus) -> None:
    """Records the event of `job` ending as `status`, in the transaction that ends it."""
    event = events.job_ended_event(
        job_id,
        str(job.get("type", "")),
        str(job.get("owner_uid", "")),
        status,
        event_id=event_id(job_id, status),
    )
    fields = state.event_staged(event, status, at=store.now(), expire_at=store.expires_at())
    transaction.write(Write(store.engine_path(job_id, OUTBOX), fields, "set"))


def dispatch(job_id: str, job: dict[str, Any] | None = None) -> None:
    """Publishes the staged event from the worker that ended the job (`job`: its document, read
    after the end); when that fails, hands it to the publish queue, and if even that fails, the
    sweeper dispatches it again later."""
    try:
        publish_staged(job_id, job=job, timeout=DIRECT_PUBLISH_TIMEOUT_SECONDS)
        return
    except Exception as error:  # noqa: BLE001 - the event is on record; the queue retries it
        logger.warn("job event not published at once; the publish queue retries it", job_id=job_id, error=repr(error))
    enqueue_publish(job_id)


def enqueue_publish(job_id: str, task_id: str | None = None) -> None:
    """Hands the staged event to the `jobevents` queue (the sweeper dispatches it again if this fails)."""
    try:
        queues.enqueue(PUBLISH_QUEUE, {"job_id": job_id}, task_id=task_id or f"{job_id}-event")
    except Exception as error:  # noqa: BLE001 - the sweeper tries again
        logger.error("job event not published yet; the sweeper retries it", job_id=job_id, error=repr(error))


def publish_staged(
    job_id: str, job: dict[str, Any] | None = None, timeout: float = events.PUBLISH_TIMEOUT_SECONDS
) -> bool:
    """Publishes the job's staged event unless it was published already (True when this call
    published it); raises when Eventarc does not take it, for the task to be retried. `job` is
    the ended job's document when the caller has just read it."""
    path = store.engine_path(job_id, OUTBOX)
    snapshot = store.docs().get(path)
    if not snapshot.exists:
        snapshot = _stage_late(job_id) or snapshot
    data = snapshot.to_dict() or {}
    if not snapshot.exists or data.get("published_at") is not None or not isinstance(data.get("event"), dict):
        return False
    if job is None or state.ended_status(job) is None:
        job = store.docs().get(store.job_path(job_id)).data or {}
    events.publish([events.with_job_outcome(data["event"], job)], timeout=timeout)  # final once ended
    store.docs().commit([Write(path, state.event_published())])
    logger.info("job ended event published", job_id=job_id, type=events.event_type(str(data.get("status"))))
    return True


def dispatch_started(job_id: str, job: dict[str, Any] | None = None) -> None:
    """Publishes mediajobs.job.v1.started at once, or hands it to the publish queue when that
    fails (best effort: it is not staged, so a worker that dies before either loses it; the job's
    document stays the truth)."""
    try:
        publish_started(job_id, job=job, timeout=DIRECT_PUBLISH_TIMEOUT_SECONDS)
        return
    except Exception as error:  # noqa: BLE001 - the queue retries it
        logger.warn("job started event not published at once; the publish queue retries it", job_id=job_id,
                    error=repr(error))  # fmt: skip
    try:
        queues.enqueue(PUBLISH_QUEUE, {"job_id": job_id, "event": events.STARTED}, task_id=f"{job_id}-event-started")
    except Exception as error:  # noqa: BLE001 - a start must not fail for its event
        logger.warn("could not enqueue the job started event", job_id=job_id, error=repr(error))


def publish_started(
    job_id: str, job: dict[str, Any] | None = None, timeout: float = events.PUBLISH_TIMEOUT_SECONDS
) -> None:
    """Publishes the job's started event (id `{job_id}-started`, so a repeat is the same event);
    raises when Eventarc does not take it, for the task to be retried."""
    if job is None:
        job = store.docs().get(store.job_path(job_id)).data
    if job is None:
        return
    event = events.job_started_event(job_id, str(job.get("type", "")), str(job.get("owner_uid", "")))
    events.publish([event], timeout=timeout)
    logger.info("job started event published", job_id=job_id)


def _stage_late(job_id: str) -> Snapshot | None:
    """Stages the event of a job that ended without one (a writer that does not stage, such as
    an older deployment); the staged snapshot, or None when the job has not ended."""

    def stage_if_ended(transaction: Transaction) -> bool:
        if transaction.get(store.engine_path(job_id, OUTBOX)).exists:
            return True
        job = transaction.get(store.job_path(job_id)).to_dict()
        status = state.ended_status(job)
        if status is None:
            return False
        stage(transaction, job_id, job, status)
        return True

    if not store.docs().run(stage_if_ended):
        return None
    return store.docs().get(store.engine_path(job_id, OUTBOX))


def redispatch_stale(at: dt.datetime | None = None, limit: int = 200) -> list[str]:
    """Dispatches again the events still unpublished REDISPATCH_AFTER after their job ended."""
    at = at or store.now()
    query = (
        cloud.db()
        .collection_group("engine")
        .where(filter=gfs.FieldFilter("pending_since", "<", at - REDISPATCH_AFTER))
        .limit(limit)
    )
    job_ids = []
    for snap in query.stream():
        job_ref = snap.reference.parent.parent
        if snap.id != OUTBOX or job_ref is None:
            continue
        round_ = int(at.timestamp() // REDISPATCH_AFTER.total_seconds())  # a task id per sweep round
        enqueue_publish(job_ref.id, task_id=f"{job_ref.id}-event-{round_}")
        job_ids.append(job_ref.id)
    return job_ids
