"""The `delete_scene` callable: the project's owner removes one scene, with its jobs and files.

Order matters, as for delete_project: first the scene's own jobs are asked to stop (its
`scene_asset` jobs, queued or processing), then the scene document goes (in the transaction
that takes it out of the project's `scene_order` and stats), so a worker still generating for it
finds its write refused and keeps nothing (scenes/project_guard.py), then the scene's Storage
folder `projects/{project_id}/scenes/{scene_id}/`. A storyboard job that holds the scene is not
cancelled (it covers the other scenes too): its item for this scene ends `not-found`.
Remaining scenes keep their numbers (a gap is fine: scenes are ordered by `scene_number`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pydantic
from firebase_functions import https_fn, logger
from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs.api import CallerInfo, Code, caller_of, parse, request_cancel
from mediajobs.scenes.api import ACTIVE, SERVER_TIMESTAMP, owned_project, project_ref
from mediajobs.scenes.models import ASSET_KINDS, DOC_ID
from mediajobs.validation import StrictModel


class DeleteScene(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    scene_id: str = pydantic.Field(pattern=DOC_ID)


def delete_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(DeleteScene, req.data)
    owned_project(request.project_id, caller.uid)
    scene = project_ref(request.project_id).collection("scenes").document(request.scene_id)
    if not scene.get().exists:
        raise https_fn.HttpsError(Code.NOT_FOUND, f"Scene {request.scene_id} is not in this project.")
    cancelled = cancel_scene_jobs(request.project_id, request.scene_id, caller)
    _remove_from_project(request.project_id, scene, caller.uid)
    cloud.db().recursive_delete(scene)
    objects = delete_scene_objects(request.project_id, request.scene_id)
    logger.info(
        "scene deleted", project_id=request.project_id, scene_id=request.scene_id, objects=objects, jobs=cancelled
    )
    return {"scene_id": request.scene_id}


def cancel_scene_jobs(project_id: str, scene_id: str, caller: CallerInfo) -> list[str]:
    """Asks the caller's queued or processing scene_asset jobs of this scene to stop; the ids."""
    jobs = (
        cloud.db()
        .collection("jobs")
        .where(filter=gfs.FieldFilter("owner_uid", "==", caller.uid))
        .where(filter=gfs.FieldFilter("status", "in", list(ACTIVE)))
        .stream()
    )
    ids = [job.id for job in jobs if _generates_for(job.to_dict() or {}, project_id, scene_id)]
    for job_id in ids:
        request_cancel(job_id, caller)
    return ids


def _generates_for(job: dict[str, Any], project_id: str, scene_id: str) -> bool:
    input: dict[str, Any] = job["input"] if isinstance(job.get("input"), dict) else {}
    return (
        job.get("type") == "scene_asset" and input.get("project_id") == project_id and input.get("scene_id") == scene_id
    )


def _remove_from_project(project_id: str, scene: Any, uid: str) -> None:
    """Deletes the scene document and takes it out of the project's order and stats, at once."""

    @gfs.transactional
    def remove(transaction: gfs.Transaction) -> None:
        project = owned_project(project_id, uid, transaction)
        snapshot = scene.get(transaction=transaction)
        if not snapshot.exists:
            raise https_fn.HttpsError(Code.NOT_FOUND, f"Scene {scene.id} is not in this project.")
        order = [s for s in project.get("scene_order") or [] if s != scene.id]
        assets = (snapshot.to_dict() or {}).get("assets") or {}
        was_complete = all(assets.get(f"{kind}_path") for kind in ASSET_KINDS)
        stats = project.get("stats") or {}
        completed = max(0, int(stats.get("completed_scenes") or 0) - (1 if was_complete else 0))
        transaction.delete(scene)
        transaction.update(
            project_ref(project_id),
            {
                "scene_order": order,
                "stats.total_scenes": len(order),
                "stats.completed_scenes": completed,
                "stats.last_activity": SERVER_TIMESTAMP,
                "updated_at": SERVER_TIMESTAMP,
            },
        )

    remove(cloud.db().transaction())


def delete_scene_objects(project_id: str, scene_id: str) -> int:
    """Deletes projects/{project_id}/scenes/{scene_id}/ in Storage; how many objects there were."""
    blobs = list(cloud.bucket().list_blobs(prefix=f"projects/{project_id}/scenes/{scene_id}/"))
    for blob in blobs:
        with contextlib.suppress(gexc.NotFound):
            blob.delete()
    return len(blobs)
