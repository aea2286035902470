"""Mirrors a scene_asset job onto its scene's `active_job`, which clients watch.

Called by the engine after each write of the job (status, throttled progress, the end).
Workers may write concurrently, so a mirror write happens only for the scene's current job
and only when the job's `updated_at` is newer than what the scene shows. The scene is read,
then written on condition that nobody wrote it since (two calls; a transaction costs three),
and read again if somebody did.
"""

from __future__ import annotations

from typing import Any

from mediajobs.jobs import store
from mediajobs.jobs.docstore import SERVER_TIME, Conflict, Snapshot, Write

ATTEMPTS = 5  # each lost race means another writer moved the scene on; the next read sees it


def mirror_job_to_scene(job_id: str, job: dict[str, Any] | None) -> bool:
    if not job or job.get("type") != "scene_asset":
        return False
    source = job.get("input") or {}
    project_id, scene_id = source.get("project_id"), source.get("scene_id")
    if not isinstance(project_id, str) or not isinstance(scene_id, str):
        return False
    docs = store.docs()
    path = f"projects/{project_id}/scenes/{scene_id}"
    for _ in range(ATTEMPTS):
        snapshot = docs.get(path)
        fields = mirrored(snapshot, job_id, job)
        if fields is None:
            return False
        try:
            docs.commit([Write(path, fields, if_unchanged_since=snapshot.update_time)])
        except Conflict:
            continue
        return True
    return False


def mirrored(scene: Snapshot, job_id: str, job: dict[str, Any]) -> dict[str, Any] | None:
    """The scene's `active_job` fields that show `job`, or None when the scene is gone, has a
    newer job, or already shows this state of the job (a stale or duplicate call)."""
    if not scene.exists:
        return None
    active = scene.to_dict().get("active_job") or {}
    if active.get("job_id") != job_id:
        return None  # a newer job took the scene over
    updated = job.get("updated_at")
    shown = active.get("job_updated_at")
    if shown is not None and updated is not None and shown >= updated:
        return None
    error = job.get("error") or {}
    return {
        "active_job.status": job.get("status"),
        "active_job.progress": int((job.get("progress") or {}).get("percent", 0)),
        "active_job.last_update": SERVER_TIME,
        "active_job.job_updated_at": updated,
        "active_job.error_message": error.get("message") if isinstance(error, dict) else None,
    }
