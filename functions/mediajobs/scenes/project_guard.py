"""Writes under a project happen only while the project exists.

delete_project cancels the project's jobs, deletes the project document, then its documents
and its Storage folder. A worker that was already generating finds out here: its write is
committed together with an update of the project document, which fails (NotFound) once the
project is gone; what the worker stored is then deleted and the item ends, so nothing
reappears under a deleted project. An update, not a read in a transaction: concurrent scene
workers of one project would otherwise abort each other's transactions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs.kinds import ItemCancelled, ItemFailed


def kept_only_in_live_project(project_id: str, commit: Callable[[], None], stored: Sequence[str] = ()) -> None:
    """Runs `commit`, which must update the project document among its writes; if the project
    (or the document written beside it) is gone, deletes the `stored` Storage objects and
    raises ItemFailed(not-found)."""
    try:
        commit()
    except gexc.NotFound:
        bucket = cloud.bucket()
        for path in stored:
            with contextlib.suppress(gexc.NotFound):
                bucket.blob(path).delete()
        raise ItemFailed("not-found", f"Project {project_id} (or its scene) was deleted; nothing was kept.") from None


def write_in_live_project(project_id: str, write: Callable[[Any], None], stored: Sequence[str] = ()) -> None:
    """Commits `write(batch)` with the project's `stats.last_activity`, only if the project exists."""
    project = cloud.db().collection("projects").document(project_id)

    def commit() -> None:
        batch = cloud.db().batch()
        write(batch)
        batch.update(project, {"stats.last_activity": gfs.SERVER_TIMESTAMP})
        batch.commit()

    kept_only_in_live_project(project_id, commit, stored)


@contextlib.contextmanager
def cancellation_wins(job_id: str) -> Iterator[None]:
    """An item failure while job `job_id` is being cancelled is a cancellation: delete_project
    cancels the project's jobs and then deletes what they write to, so a worker that has not
    seen the cancellation yet (items look at it every few seconds) fails with not-found; its
    job must end `cancelled`, not `failed`. The job is read afresh, on failures only."""
    try:
        yield
    except ItemFailed:
        job = cloud.db().collection("jobs").document(job_id).get()
        if job.exists and (job.to_dict() or {}).get("cancel_requested"):
            raise ItemCancelled() from None
        raise
