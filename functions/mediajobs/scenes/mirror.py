"""Mirrors a scene_asset job onto its scene's `active_job`, which clients watch.

Called by the engine after each write of the job (status, throttled progress, the end).
Workers may write concurrently, so a mirror write happens only for the scene's current job
and only when the job's `updated_at` is newer than what the scene shows.
"""

from __future__ import annotations

from typing import Any

from google.cloud import firestore as gfs

from mediajobs import cloud


def mirror_job_to_scene(job_id: str, job: dict[str, Any] | None) -> bool:
    if not job or job.get("type") != "scene_asset":
        return False
    source = job.get("input") or {}
    project_id, scene_id = source.get("project_id"), source.get("scene_id")
    if not isinstance(project_id, str) or not isinstance(scene_id, str):
        return False
    scene_ref = cloud.db().collection("projects").document(project_id).collection("scenes").document(scene_id)
    updated = job.get("updated_at")
    error = job.get("error") or {}

    @gfs.transactional
    def write(transaction: gfs.Transaction) -> bool:
        snapshot = scene_ref.get(transaction=transaction)
        if not snapshot.exists:
            return False
        active = (snapshot.to_dict() or {}).get("active_job") or {}
        if active.get("job_id") != job_id:
            return False  # a newer job took the scene over
        shown = active.get("job_updated_at")
        if shown is not None and updated is not None and shown >= updated:
            return False  # stale or duplicate event
        transaction.update(
            scene_ref,
            {
                "active_job.status": job.get("status"),
                "active_job.progress": int((job.get("progress") or {}).get("percent", 0)),
                "active_job.last_update": gfs.SERVER_TIMESTAMP,
                "active_job.job_updated_at": updated,
                "active_job.error_message": error.get("message") if isinstance(error, dict) else None,
            },
        )
        return True

    wrote: bool = write(cloud.db().transaction())
    return wrote
