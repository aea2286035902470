"""Takes: every asset a scene job finishes is kept, and the scene points at one per kind.

projects/{p}/scenes/{s}/takes/{take_id}   (take_id = `{job_id}-{kind}`: a retried item writes
                                           the same take, another job a new one)

A take's objects keep the path the job gave them (`{kind}/{job_id}.<ext>`), so no take
overwrites another. The scene's `selected_takes.<kind>` names the selected take and its
`assets.<kind>_path` (with `thumbnail_path` for images, `composition` for compositions) is that
take's, so clients that only know `assets` keep working. A new take is selected when it is
recorded; `select_take` switches back to any take of the scene, also while a job runs there
(the newest change wins: a take that job finishes afterwards becomes the selected one).
"""

from __future__ import annotations

from typing import Any

from firebase_functions import https_fn, logger
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.scenes.models import ASSET_KINDS
from mediajobs.scenes.project_guard import kept_only_in_live_project

SERVER_TIMESTAMP: Any = gfs.SERVER_TIMESTAMP
MAX_PROMPT_CHARS = 4000


def take_id_of(job_id: str, kind: str) -> str:
    return f"{job_id}-{kind}"


def takes_of(scene_ref: Any) -> Any:
    return scene_ref.collection("takes")


def selected_fields(kind: str, take_id: str, take: dict[str, Any]) -> dict[str, Any]:
    """The scene's fields that show `take` as the selected `kind` asset."""
    fields: dict[str, Any] = {f"selected_takes.{kind}": take_id, f"assets.{kind}_path": take["path"]}
    if kind == "image" and take.get("thumbnail_path"):
        fields["assets.thumbnail_path"] = take["thumbnail_path"]
    if kind == "composition" and isinstance(take.get("composition"), dict):
        fields["composition"] = {**take["composition"], "generated_at": take.get("created_at") or SERVER_TIMESTAMP}
    return fields


def record_take(project_id: str, scene_ref: Any, take_id: str, take: dict[str, Any], stored: list[str]) -> None:
    """Writes the take and selects it on the scene in one transaction; counts the scene as
    completed when it first has every kind. Only while the project exists: else the `stored`
    objects are deleted and the item fails (project_guard)."""
    kind = str(take["kind"])
    project_ref = cloud.db().collection("projects").document(project_id)
    document = {**take, "created_at": SERVER_TIMESTAMP}

    @gfs.transactional
    def write(transaction: gfs.Transaction) -> None:
        before = (scene_ref.get(transaction=transaction).to_dict() or {}).get("assets") or {}
        had_all = all(before.get(f"{k}_path") for k in ASSET_KINDS)
        has_all = all(before.get(f"{k}_path") or k == kind for k in ASSET_KINDS)
        fields = selected_fields(kind, take_id, document)
        transaction.update(scene_ref, {**fields, "assets.generated_at": SERVER_TIMESTAMP,
                                       "updated_at": SERVER_TIMESTAMP})  # fmt: skip
        transaction.set(takes_of(scene_ref).document(take_id), document)
        project_fields: dict[str, Any] = {"stats.last_activity": SERVER_TIMESTAMP}
        if has_all and not had_all:
            project_fields["stats.completed_scenes"] = gfs.Increment(1)
        transaction.update(project_ref, project_fields)

    kept_only_in_live_project(project_id, lambda: write(cloud.db().transaction()), stored)


def select_take(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Makes one of the scene's takes the selected one of its kind -> {scene_id, kind, take_id}."""
    from mediajobs.jobs.api import Code, caller_of, parse
    from mediajobs.scenes.api import owned_project, project_ref
    from mediajobs.scenes.models import SelectTake

    caller = caller_of(req)
    request = parse(SelectTake, req.data)
    owned_project(request.project_id, caller.uid)
    scene_ref = project_ref(request.project_id).collection("scenes").document(request.scene_id)
    take_ref = takes_of(scene_ref).document(request.take_id)

    @gfs.transactional
    def switch(transaction: gfs.Transaction) -> str:
        if not scene_ref.get(transaction=transaction).exists:
            raise https_fn.HttpsError(Code.NOT_FOUND, f"Scene {request.scene_id} is not in this project.")
        snapshot = take_ref.get(transaction=transaction)
        take = snapshot.to_dict() if snapshot.exists else None
        if not take or take.get("kind") not in ASSET_KINDS or not take.get("path"):
            raise https_fn.HttpsError(Code.NOT_FOUND, f"Take {request.take_id} is not a take of this scene.")
        kind = str(take["kind"])
        transaction.update(scene_ref, {**selected_fields(kind, request.take_id, take), "updated_at": SERVER_TIMESTAMP})
        return kind

    kind: str = switch(cloud.db().transaction())
    logger.info("take selected", project_id=request.project_id, scene_id=request.scene_id, take_id=request.take_id)
    return {"scene_id": request.scene_id, "kind": kind, "take_id": request.take_id}
