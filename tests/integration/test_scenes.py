"""Projects and scene generation on the real local stack with the offline provider."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.scenes.models import ASSET_KINDS
from tests.integration.jobs_helpers import assert_every_document_expires

BRIEF = {
    "title": "Summer launch",
    "creative_brief": {"brand_name": "Fizz", "product_description": "sparkling water", "target_audience": "runners",
                       "key_message": "stay light", "tone": "playful", "additional_notes": ""},
}  # fmt: skip


def new_project(user: client.User, scenes: int) -> tuple[str, list[str]]:
    project_id = client.call("create_project", {"name": "Fizz summer", "storyboard": BRIEF}, user.id_token)[
        "project_id"
    ]
    scene_ids = [
        client.call(
            "add_scene",
            {
                "project_id": project_id,
                "title": f"Scene {n}",
                "description": f"Shot {n} of the run",
                "duration_seconds": 3,
            },
            user.id_token,
        )["scene_id"]
        for n in range(1, scenes + 1)
    ]
    return project_id, scene_ids


def scene_doc(project_id: str, scene_id: str) -> dict[str, Any]:
    ref = cloud.db().collection("projects").document(project_id).collection("scenes").document(scene_id)
    return ref.get().to_dict() or {}


def generate_all_kinds(user: client.User, project_id: str, scene_id: str) -> list[dict[str, Any]]:
    """A client's 'generate everything' for one scene: one kind after the other (one active job per scene)."""
    finals = []
    for kind in ASSET_KINDS:
        job_id = client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": kind},
                             user.id_token)["job_id"]  # fmt: skip
        final, _ = client.watch_job(job_id, timeout=600)
        assert_every_document_expires(job_id)
        finals.append(final)
    return finals


def test_eight_scenes_generating_at_once_each_get_their_own_assets_and_exact_stats(user: client.User) -> None:
    project_id, scene_ids = new_project(user, 8)

    with ThreadPoolExecutor(8) as pool:
        results = dict(
            zip(scene_ids, pool.map(lambda s: generate_all_kinds(user, project_id, s), scene_ids), strict=True)
        )

    bucket = cloud.bucket()
    for scene_id, finals in results.items():
        assert [f["status"] for f in finals] == ["completed"] * 4, [f.get("error") for f in finals]
        scene = scene_doc(project_id, scene_id)
        assets = scene["assets"]
        for kind in ASSET_KINDS:
            path = assets[f"{kind}_path"]
            assert path.startswith(f"projects/{project_id}/scenes/{scene_id}/{kind}/")
            blob = bucket.get_blob(path)
            assert blob is not None and blob.size > 0
        image = Image.open(io.BytesIO(bucket.blob(assets["image_path"]).download_as_bytes()))
        assert image.format == "PNG" and image.size == (1024, 576)
        assert bucket.blob(assets["video_path"]).download_as_bytes()[4:8] == b"ftyp"
        assert bucket.blob(assets["audio_path"]).download_as_bytes()[:4] == b"RIFF"
        composition = json.loads(bucket.blob(assets["composition_path"]).download_as_bytes())
        assert composition["description"].startswith(scene["title"])
        assert scene["composition"]["styling"] == composition["styling"]
        assert bucket.get_blob(assets["thumbnail_path"]) is not None
    project = cloud.db().collection("projects").document(project_id).get().to_dict() or {}
    assert project["stats"]["total_scenes"] == 8
    assert project["stats"]["completed_scenes"] == 8
    assert project["scene_order"] == scene_ids
    # The mirror catches up with each scene's last job (triggers run after the job ends).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        actives = [scene_doc(project_id, s)["active_job"] for s in scene_ids]
        if all(a["status"] == "completed" and a["progress"] == 100 for a in actives):
            break
        time.sleep(0.5)
    assert all(a["status"] == "completed" and a["progress"] == 100 and a["type"] == "audio" for a in actives), actives


def test_one_active_job_per_scene(user: client.User) -> None:
    project_id, (scene_id,) = new_project(user, 1)
    first = client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "video"},
                        user.id_token)  # fmt: skip
    with pytest.raises(client.CallableError) as raised:
        client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "image"},
                    user.id_token)  # fmt: skip
    assert raised.value.status == "FAILED_PRECONDITION" and first["job_id"] in raised.value.message
    client.watch_job(first["job_id"], timeout=300)


def test_another_user_can_neither_see_nor_change_nor_generate(new_user: Callable[..., client.User]) -> None:
    owner, other = new_user(), new_user()
    project_id, (scene_id,) = new_project(owner, 1)
    attempts = [
        ("update_project", {"project_id": project_id, "name": "mine now"}),
        ("add_scene", {"project_id": project_id, "title": "x", "duration_seconds": 2}),
        ("update_scene", {"project_id": project_id, "scene_id": scene_id, "title": "x"}),
        ("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "image"}),
        ("delete_project", {"project_id": project_id}),
    ]
    for name, data in attempts:
        with pytest.raises(client.CallableError) as raised:
            client.call(name, data, other.id_token)
        assert raised.value.status == "NOT_FOUND", name
        assert "does not exist or is not yours" in raised.value.message
    with pytest.raises(client.CallableError) as raised:
        client.call("start_job", {"type": "mood_board", "input": {"project_id": project_id}}, other.id_token)
    assert raised.value.status == "PERMISSION_DENIED"
    project = cloud.db().collection("projects").document(project_id).get().to_dict() or {}
    assert project["name"] == "Fizz summer" and project["stats"]["total_scenes"] == 1


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("create_project", {"name": ""}, "name"),
        ("create_project", {"name": "x", "storyboard": {"creative_brief": {"colour": 1}}}, "unknown field"),
        ("add_scene", {"project_id": "p", "title": "t", "duration_seconds": -1}, "duration_seconds"),
        ("generate_scene_asset", {"project_id": "p", "scene_id": "s", "kind": "hologram"}, "kind"),
        ("update_project", {"project_id": "../x"}, "project_id"),
    ],
)
def test_bad_project_requests_are_refused(user: client.User, name: str, data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(client.CallableError) as raised:
        client.call(name, data, user.id_token)
    assert raised.value.status == "INVALID_ARGUMENT" and fragment in raised.value.message


def test_mood_board_and_project_deletion(user: client.User) -> None:
    project_id, (scene_id,) = new_project(user, 1)
    job = client.call(
        "start_job", {"type": "mood_board", "input": {"project_id": project_id, "count": 3}}, user.id_token
    )
    final, _ = client.watch_job(job["job_id"], timeout=300)
    assert final["status"] == "completed" and final["result"]["succeeded"] == 3
    assert_every_document_expires(job["job_id"])
    moods = list(cloud.db().collection("projects").document(project_id).collection("moods").stream())
    assert len(moods) == 3
    bucket = cloud.bucket()
    for mood in moods:
        data = mood.to_dict() or {}
        assert data["name"] and len(data["color_palette"]) == 5 and data["mood_keywords"]
        (path,) = data["image_paths"]
        assert path.startswith(f"projects/{project_id}/moods/{mood.id}/") and path.endswith(".png")
        assert Image.open(io.BytesIO(bucket.blob(path).download_as_bytes())).format == "PNG"

    client.call("delete_project", {"project_id": project_id}, user.id_token)

    assert not cloud.db().collection("projects").document(project_id).get().exists
    assert not list(cloud.db().collection("projects").document(project_id).collection("scenes").stream())
    assert not list(bucket.list_blobs(prefix=f"projects/{project_id}/"))
    with pytest.raises(client.CallableError):
        client.call("update_scene", {"project_id": project_id, "scene_id": scene_id, "title": "gone"}, user.id_token)
