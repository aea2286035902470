"""Project and scene callables: ownership checked, input validated, clear Firebase errors.

A project belongs to `user_id`; nobody else can read it through these functions, and a
project that is not yours answers exactly like one that does not exist.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pydantic
from firebase_functions import https_fn, logger
from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs.api import CallerInfo, Code, caller_of, create_job, parse, request_cancel
from mediajobs.jobs.docstore import DocStore, Guard, Write
from mediajobs.jobs.kinds import get_kind
from mediajobs.jobs.models import ACTIVE_STATUSES
from mediajobs.jobs.store import now
from mediajobs.scenes import models

SERVER_TIMESTAMP: Any = gfs.SERVER_TIMESTAMP
STALE_ACTIVE_JOB = dt.timedelta(minutes=15)  # an active job without news for this long may be replaced
ACTIVE = tuple(sorted(ACTIVE_STATUSES))  # the engine's: queued, processing


def project_ref(project_id: str) -> Any:
    return cloud.db().collection("projects").document(project_id)


def owned_project(project_id: str, uid: str, transaction: Any = None) -> dict[str, Any]:
    snapshot = project_ref(project_id).get(transaction=transaction)
    data = snapshot.to_dict() if snapshot.exists else None
    if data is None or data.get("user_id") != uid:
        raise https_fn.HttpsError(Code.NOT_FOUND, f"Project {project_id} does not exist or is not yours.")
    return dict(data)


def create_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(models.CreateProject, req.data)
    ref = cloud.db().collection("projects").document()
    ref.create(
        {
            "name": request.name,
            "description": request.description,
            "user_id": caller.uid,
            "storyboard": request.storyboard.model_dump(),
            "scene_order": [],
            "stats": {"total_scenes": 0, "completed_scenes": 0, "last_activity": SERVER_TIMESTAMP},
            "created_at": SERVER_TIMESTAMP,
            "updated_at": SERVER_TIMESTAMP,
        }
    )
    logger.info("project created", project_id=ref.id, user_id=caller.uid)
    return {"project_id": ref.id}


def update_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(models.UpdateProject, req.data)
    owned_project(request.project_id, caller.uid)
    changes = request.model_dump(exclude={"project_id"}, exclude_unset=True)
    if "storyboard" in changes and request.storyboard is not None:
        changes["storyboard"] = request.storyboard.model_dump()
    if not changes:
        raise https_fn.HttpsError(Code.INVALID_ARGUMENT, "Nothing to change: send name, description or storyboard.")
    project_ref(request.project_id).update(
        {**changes, "updated_at": SERVER_TIMESTAMP, "stats.last_activity": SERVER_TIMESTAMP}
    )
    return {"project_id": request.project_id}


def delete_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Cancels every job touching the project, then deletes the project, its scenes and moods, and its
    Storage folder."""
    caller = caller_of(req)
    request = parse(models.ProjectRef, req.data)
    owned_project(request.project_id, caller.uid)
    cancelled = cancel_project_jobs(request.project_id, caller)
    objects = delete_project_data(request.project_id)
    logger.info("project deleted", project_id=request.project_id, objects=objects, jobs_cancelled=cancelled)
    return {"project_id": request.project_id}


def cancel_project_jobs(project_id: str, caller: CallerInfo) -> list[str]:
    """Asks every queued or processing job of the caller that touches the project to stop,
    whatever its kind (as the kind says: `JobKind.project_of`); the ids."""
    jobs = (
        cloud.db()
        .collection("jobs")
        .where(filter=gfs.FieldFilter("owner_uid", "==", caller.uid))
        .where(filter=gfs.FieldFilter("status", "in", list(ACTIVE)))
        .stream()
    )
    ids = [job.id for job in jobs if _touches(job.to_dict() or {}, project_id)]
    for job_id in ids:
        request_cancel(job_id, caller)
    return ids


def _touches(job: dict[str, Any], project_id: str) -> bool:
    kind = get_kind(str(job.get("type", "")))
    if kind is None:
        return False
    try:
        input = kind.Input.model_validate(job.get("input") or {})
    except pydantic.ValidationError:
        return False  # it cannot run: its start fails it
    return kind.project_of(input) == project_id


def delete_project_data(project_id: str) -> int:
    """Deletes the project document first (from then on no worker writes under it, see
    project_guard), then everything below it, then its Storage folder (the objects deleted)."""
    ref = project_ref(project_id)
    ref.delete()
    cloud.db().recursive_delete(ref)
    blobs = list(cloud.bucket().list_blobs(prefix=f"projects/{project_id}/"))
    for blob in blobs:
        with contextlib.suppress(gexc.NotFound):
            blob.delete()
    return len(blobs)


def add_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(models.AddScene, req.data)
    db = cloud.db()
    scene = project_ref(request.project_id).collection("scenes").document()

    @gfs.transactional
    def add(transaction: gfs.Transaction) -> None:
        project = owned_project(request.project_id, caller.uid, transaction)
        order = list(project.get("scene_order") or [])
        number = request.scene_number or len(order) + 1
        transaction.create(
            scene,
            {
                "scene_number": number,
                "title": request.title,
                "description": request.description,
                "duration_seconds": request.duration_seconds,
                "assets": {},
                "composition": None,
                "active_job": None,
                "created_at": SERVER_TIMESTAMP,
                "updated_at": SERVER_TIMESTAMP,
            },
        )
        order.insert(min(number - 1, len(order)), scene.id)
        transaction.update(
            project_ref(request.project_id),
            {
                "scene_order": order,
                "stats.total_scenes": len(order),
                "stats.last_activity": SERVER_TIMESTAMP,
                "updated_at": SERVER_TIMESTAMP,
            },
        )

    add(db.transaction())
    return {"scene_id": scene.id}


def update_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    caller = caller_of(req)
    request = parse(models.UpdateScene, req.data)
    owned_project(request.project_id, caller.uid)
    scene = project_ref(request.project_id).collection("scenes").document(request.scene_id)
    changes = request.model_dump(exclude={"project_id", "scene_id"}, exclude_unset=True)
    if not changes:
        raise https_fn.HttpsError(Code.INVALID_ARGUMENT, "Nothing to change: send title, description, ...")
    if not scene.get().exists:
        raise https_fn.HttpsError(Code.NOT_FOUND, f"Scene {request.scene_id} is not in this project.")
    scene.update({**changes, "updated_at": SERVER_TIMESTAMP})
    return {"scene_id": request.scene_id}


def generate_scene_asset(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Starts a scene_asset job; one active job per scene (a stale one may be replaced)."""
    caller = caller_of(req)
    request = parse(models.GenerateSceneAsset, req.data)
    owned_project(request.project_id, caller.uid)
    input: dict[str, Any] = {"project_id": request.project_id, "scene_id": request.scene_id, "kind": request.kind}
    if params := request.params().chosen():
        input["params"] = params
    job_id = create_job(caller, "scene_asset", input, {}, notify=request.notify)  # scene guard and budget too
    logger.info("scene asset job queued", job_id=job_id, project_id=request.project_id, kind=request.kind)
    return {"job_id": job_id}


def one_active_job_per_scene(job_id: str, input: dict[str, Any]) -> Guard:
    """A guard for the creation of scene_asset job `job_id`: refuses if the scene is busy,
    else points the scene's active_job at the new job, if the scene is still as we read it."""
    project_id, scene_id, kind = str(input["project_id"]), str(input["scene_id"]), str(input["kind"])
    scene = project_ref(project_id).collection("scenes").document(scene_id)

    def guard(docs: DocStore) -> list[Write]:
        snapshot = scene.get()
        if not snapshot.exists:
            raise https_fn.HttpsError(Code.NOT_FOUND, f"Scene {scene_id} is not in this project.")
        active = (snapshot.to_dict() or {}).get("active_job") or {}
        last = active.get("last_update")
        busy = active.get("status") in ACTIVE and last is not None and now() - last < STALE_ACTIVE_JOB
        if busy and active.get("job_id"):
            # The job document is the truth; the scene's mirror may lag it by a moment.
            job = cloud.db().collection("jobs").document(active["job_id"]).get()
            busy = job.exists and (job.to_dict() or {}).get("status") in ACTIVE
        if busy:
            raise https_fn.HttpsError(
                Code.FAILED_PRECONDITION,
                f"Scene {scene_id} is already generating ({active.get('type')}, job {active.get('job_id')}); "
                "wait for it or cancel it.",
            )
        active_job = {
            "job_id": job_id,
            "type": kind,
            "status": "queued",
            "progress": 0,
            "started_at": SERVER_TIMESTAMP,
            "last_update": SERVER_TIMESTAMP,
            "error_message": None,
        }
        fields = {"active_job": active_job, "updated_at": SERVER_TIMESTAMP}
        return [Write(scene.path, fields, if_unchanged_since=snapshot.update_time)]

    return guard
