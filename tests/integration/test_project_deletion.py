"""delete_project cancels every job touching the project (whatever its kind), and nothing is
written under a deleted project, even by a worker that was generating while the project went away."""

from __future__ import annotations

import time
import uuid

import pytest
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs.kinds import Item, ItemFailed
from mediajobs.jobs.models import Job
from mediajobs.scenes import api
from mediajobs.scenes.kind import MoodBoardInput, MoodBoardJob, NoOptions, SceneAssetInput, SceneAssetJob
from mediajobs.scenes.models import ASSET_KINDS
from tests.integration.test_scenes import new_project, scene_doc


def left_under(project_id: str) -> tuple[list[str], list[str]]:
    """Documents (at any depth: scenes, their takes, moods) and Storage objects still under the project."""
    db = cloud.db()
    project = db.collection("projects").document(project_id)
    docs, parents = [], [project]
    while parents:
        for collection in parents.pop().collections():
            for snap in collection.list_documents():  # documents that only hold subcollections too
                parents.append(snap)
                if snap.get().exists:
                    docs.append(snap.path)
    if project.get().exists:
        docs.append(project.path)
    return sorted(docs), [b.name for b in cloud.bucket().list_blobs(prefix=f"projects/{project_id}/")]


def test_delete_project_removes_every_take_document_and_object(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)
    for seed in (1, 2):
        request = {"project_id": project_id, "scene_id": scene_id, "kind": "image", "seed": seed}
        job_id = client.call("generate_scene_asset", request, user.id_token)["job_id"]
        assert client.watch_job(job_id, timeout=300)[0]["status"] == "completed"
    docs, objects = left_under(project_id)
    takes = [d for d in docs if "/takes/" in d]
    assert len(takes) == 2 and len(objects) == 4, (docs, objects)  # two images and their thumbnails

    client.call("delete_project", {"project_id": project_id}, user.id_token)

    assert left_under(project_id) == ([], [])
    for path in objects:
        assert cloud.bucket().get_blob(path) is None


def test_delete_project_cancels_its_jobs_first(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)
    other_project, _ = new_project(user, 0)
    db = cloud.db()
    tag = uuid.uuid4().hex[:8]
    jobs = {  # written as if running: the start trigger leaves them alone
        f"running-{tag}": ("processing", "mood_board", {"project_id": project_id, "count": 4}),
        f"a-{tag}": ("processing", "scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "video"}),
        f"elsewhere-{tag}": ("processing", "mood_board", {"project_id": other_project, "count": 1}),
    }
    for job_id, (status, job_type, input) in jobs.items():
        db.document(f"jobs/{job_id}").set({"type": job_type, "owner_uid": user.uid, "status": status, "input": input})

    client.call("delete_project", {"project_id": project_id}, user.id_token)

    running = db.document(f"jobs/running-{tag}").get().to_dict() or {}
    asset = db.document(f"jobs/a-{tag}").get().to_dict() or {}
    elsewhere = db.document(f"jobs/elsewhere-{tag}").get().to_dict() or {}
    assert running["cancel_requested"] is True
    assert asset["cancel_requested"] is True
    assert not elsewhere.get("cancel_requested")
    assert left_under(project_id) == ([], [])


def test_delete_project_cancels_a_running_storyboard_job(user: client.User) -> None:
    """Whatever its kind, a job touching the project is cancelled: it ends `cancelled` (not
    `failed`, not `completed`) and pays for nothing more."""
    project_id, [busy_scene_id, free_scene_id] = new_project(user, 2)
    db = cloud.db()
    # Another job holds one scene: the storyboard's item for it waits there, so the job still runs.
    other_job = db.collection("jobs").document(f"holder-{uuid.uuid4().hex[:8]}")
    other_job.set({"type": "scene_asset", "owner_uid": user.uid, "status": "processing",
                   "input": {"project_id": project_id, "scene_id": busy_scene_id, "kind": "image"}})  # fmt: skip
    holding = {"job_id": other_job.id, "type": "image", "status": "processing", "last_update": gfs.SERVER_TIMESTAMP}
    db.document(f"projects/{project_id}/scenes/{busy_scene_id}").update({"active_job": {**holding, "progress": 50}})
    job_id = client.call("generate_storyboard", {"project_id": project_id}, user.id_token)["job_id"]
    deadline = time.monotonic() + 180
    while not all(scene_doc(project_id, free_scene_id).get("assets", {}).get(f"{k}_path") for k in ASSET_KINDS):
        assert time.monotonic() < deadline, "the free scene was not generated"
        time.sleep(0.5)
    assert (db.document(f"jobs/{job_id}").get().to_dict() or {})["status"] == "processing"

    client.call("delete_project", {"project_id": project_id}, user.id_token)

    final, _ = client.watch_job(job_id, timeout=300)
    assert final["status"] == "cancelled" and final["cancel_requested"] is True, final
    assert (other_job.get().to_dict() or {})["cancel_requested"] is True
    assert left_under(project_id) == ([], [])


class DeletesTheProject:
    """An item context whose project is deleted while the provider works (as delete_project does)."""

    def __init__(self, job_id: str, project_id: str) -> None:
        self.job = Job(id=job_id, type="mood_board")
        self.project_id = project_id
        self.deleted = False

    def cancelled(self) -> bool:
        if not self.deleted:
            self.deleted = True
            api.delete_project_data(self.project_id)
        return False

    def heartbeat(self, fraction: float | None = None, current: str | None = None) -> None:
        pass

    def save_checkpoint(self, checkpoint: dict[str, object]) -> None:
        pass


@pytest.mark.parametrize("kind", ["mood", "image"])
def test_a_worker_generating_while_its_project_is_deleted_writes_nothing(
    user: client.User, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("GENERATION_PROVIDER", "local")
    monkeypatch.setenv("LOCAL_PROVIDER_LATENCY_MS", "300")  # so that the provider looks at its control
    project_id, [scene_id] = new_project(user, 1)
    ctx = DeletesTheProject(f"job-{uuid.uuid4().hex[:8]}", project_id)

    with pytest.raises(ItemFailed) as raised:
        if kind == "mood":
            item = Item(id="mood-0", label="mood 1", payload={"index": 0}, attempt=1)
            MoodBoardJob().process_item(ctx, item, MoodBoardInput(project_id=project_id, count=2), NoOptions())
        else:
            item = Item(id="asset", label="image", payload={}, attempt=1)
            input = SceneAssetInput(project_id=project_id, scene_id=scene_id, kind="image")
            SceneAssetJob().process_item(ctx, item, input, NoOptions())

    assert ctx.deleted
    assert raised.value.code == "not-found" and "was deleted" in raised.value.message
    assert left_under(project_id) == ([], [])
    assert scene_doc(project_id, scene_id) == {}
