"""delete_scene: only the project's owner; the scene's jobs are cancelled first, then the scene
leaves the project's order and stats and its Storage folder goes; other scenes are untouched."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from mediajobs import cloud
from mediajobs.cli import client
from tests.integration.jobs_helpers import assert_every_document_expires
from tests.integration.test_scenes import new_project, scene_doc


def _objects(project_id: str, scene_id: str) -> list[str]:
    prefix = f"projects/{project_id}/scenes/{scene_id}/"
    return sorted(blob.name for blob in cloud.bucket().list_blobs(prefix=prefix))


def test_delete_scene_cancels_its_jobs_and_removes_its_files(
    user: client.User, new_user: Callable[..., client.User]
) -> None:
    project_id, [doomed, kept] = new_project(user, 2)
    made = client.call(
        "generate_scene_asset", {"project_id": project_id, "scene_id": doomed, "kind": "image"}, user.id_token
    )
    final, _ = client.watch_job(made["job_id"], timeout=300)
    assert final["status"] == "completed", final
    assert_every_document_expires(made["job_id"])
    image_path = scene_doc(project_id, doomed)["assets"]["image_path"]
    assert image_path in _objects(project_id, doomed)
    bystander = f"projects/{project_id}/scenes/{kept}/image/keep.png"
    cloud.bucket().blob(bystander).upload_from_string(b"\x89PNG\r\n\x1a\n", content_type="image/png")
    db = cloud.db()
    tag = uuid.uuid4().hex[:8]
    running = {  # written as if running (the start trigger leaves it alone)
        f"video-{tag}": {"project_id": project_id, "scene_id": doomed, "kind": "video"},
        f"other-{tag}": {"project_id": project_id, "scene_id": kept, "kind": "audio"},
    }
    for job_id, input in running.items():
        db.document(f"jobs/{job_id}").set(
            {"type": "scene_asset", "owner_uid": user.uid, "status": "processing", "input": input}
        )

    with pytest.raises(client.CallableError) as stranger:
        client.call("delete_scene", {"project_id": project_id, "scene_id": doomed}, new_user().id_token)
    assert stranger.value.status == "NOT_FOUND"
    assert scene_doc(project_id, doomed), "a stranger deletes nothing"

    answer = client.call("delete_scene", {"project_id": project_id, "scene_id": doomed}, user.id_token)

    assert answer == {"scene_id": doomed}
    assert scene_doc(project_id, doomed) == {}
    assert (db.document(f"jobs/video-{tag}").get().to_dict() or {})["cancel_requested"] is True
    assert not (db.document(f"jobs/other-{tag}").get().to_dict() or {}).get("cancel_requested")
    assert _objects(project_id, doomed) == []
    assert _objects(project_id, kept) == [bystander]
    project = db.document(f"projects/{project_id}").get().to_dict() or {}
    assert project["scene_order"] == [kept]
    assert project["stats"]["total_scenes"] == 1
    assert scene_doc(project_id, kept)["title"] == "Scene 2"


@pytest.mark.parametrize(
    ("request_data", "status"),
    [
        ({"project_id": "{project}", "scene_id": "missing-scene"}, "NOT_FOUND"),
        ({"project_id": "missing-project", "scene_id": "{scene}"}, "NOT_FOUND"),
        ({"project_id": "{project}", "scene_id": "../etc"}, "INVALID_ARGUMENT"),
        ({"project_id": "{project}", "scene_id": "{scene}", "surprise": 1}, "INVALID_ARGUMENT"),
        ({"project_id": "{project}"}, "INVALID_ARGUMENT"),
    ],
)
def test_delete_scene_refuses_bad_requests_clearly(
    user: client.User, request_data: dict[str, object], status: str
) -> None:
    project_id, [scene_id] = new_project(user, 1)
    data = {
        key: str(value).replace("{project}", project_id).replace("{scene}", scene_id)
        if isinstance(value, str)
        else value
        for key, value in request_data.items()
    }
    with pytest.raises(client.CallableError) as refused:
        client.call("delete_scene", data, user.id_token)
    assert refused.value.status == status
    assert refused.value.message, "a message a person can act on"
    assert scene_doc(project_id, scene_id)["title"] == "Scene 1"
