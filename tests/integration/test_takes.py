"""Generation takes on the real local stack with the offline provider: every finished asset is
kept, the scene shows the selected one, parameters shape the bytes, and bad ones are refused."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.contract.validate import problems
from mediajobs.jobs.store import now
from tests.integration.jobs_helpers import assert_every_document_expires
from tests.integration.test_scenes import new_project, scene_doc


def takes_of(project_id: str, scene_id: str) -> dict[str, dict[str, Any]]:
    ref = cloud.db().document(f"projects/{project_id}/scenes/{scene_id}")
    return {snap.id: snap.to_dict() or {} for snap in ref.collection("takes").stream()}


def make_take(user: client.User, project_id: str, scene_id: str, kind: str = "image", **params: Any) -> dict[str, Any]:
    request = {"project_id": project_id, "scene_id": scene_id, "kind": kind, **params}
    job_id = client.call("generate_scene_asset", request, user.id_token)["job_id"]
    final, _ = client.watch_job(job_id, timeout=300)
    assert final["status"] == "completed", final.get("error")
    assert_every_document_expires(job_id)
    return dict(final["result"])


def sha256_of(path: str) -> str:
    return hashlib.sha256(cloud.bucket().blob(path).download_as_bytes()).hexdigest()


def test_two_takes_with_different_seeds_differ_both_survive_and_select_take_switches(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)

    first = make_take(user, project_id, scene_id, seed=1, aspect_ratio="1:1", negative_prompt="no text")
    second = make_take(user, project_id, scene_id, seed=2, aspect_ratio="1:1")

    assert first["take_id"] != second["take_id"] and first["path"] != second["path"]
    assert sha256_of(first["path"]) != sha256_of(second["path"])  # another seed, other bytes
    image = Image.open(io.BytesIO(cloud.bucket().blob(first["path"]).download_as_bytes()))
    assert image.format == "PNG" and image.size == (1024, 1024)  # the aspect ratio asked for
    takes = takes_of(project_id, scene_id)
    assert set(takes) == {first["take_id"], second["take_id"]}
    for take_id, take in takes.items():
        assert problems("take.schema.json", take) == []
        assert take["kind"] == "image" and take["provider"] == "local" and take["prediction_id"] is None
        assert cloud.bucket().get_blob(take["path"]) is not None
        assert cloud.bucket().get_blob(take["thumbnail_path"]) is not None
        assert take["prompt"].startswith("Scene 1. Shot 1 of the run")
        assert take_id.endswith("-image")
    assert takes[first["take_id"]]["params"] == {"seed": 1, "aspect_ratio": "1:1", "negative_prompt": "no text"}
    assert takes[second["take_id"]]["params"] == {"seed": 2, "aspect_ratio": "1:1"}

    scene = scene_doc(project_id, scene_id)  # the newest take is selected
    assert problems("scene.schema.json", scene) == []
    assert scene["selected_takes"]["image"] == second["take_id"]
    assert scene["assets"]["image_path"] == second["path"]
    assert scene["assets"]["thumbnail_path"] == takes[second["take_id"]]["thumbnail_path"]

    answer = client.call(
        "select_take", {"project_id": project_id, "scene_id": scene_id, "take_id": first["take_id"]}, user.id_token
    )

    assert answer == {"scene_id": scene_id, "kind": "image", "take_id": first["take_id"]}
    scene = scene_doc(project_id, scene_id)
    assert scene["selected_takes"]["image"] == first["take_id"]
    assert scene["assets"]["image_path"] == first["path"]
    assert scene["assets"]["thumbnail_path"] == takes[first["take_id"]]["thumbnail_path"]
    assert sha256_of(scene["assets"]["image_path"]) == sha256_of(first["path"])
    assert set(takes_of(project_id, scene_id)) == {first["take_id"], second["take_id"]}  # nothing lost


def test_the_same_seed_gives_the_same_bytes_and_no_seed_changes_nothing_else(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)

    once = make_take(user, project_id, scene_id, seed=42)
    again = make_take(user, project_id, scene_id, seed=42)
    audio_once = make_take(user, project_id, scene_id, kind="audio", seed=7)
    audio_again = make_take(user, project_id, scene_id, kind="audio", seed=7)
    audio_other = make_take(user, project_id, scene_id, kind="audio", seed=8)

    assert once["path"] != again["path"]  # each take its own object
    assert sha256_of(once["path"]) == sha256_of(again["path"])
    assert sha256_of(audio_once["path"]) == sha256_of(audio_again["path"])
    assert sha256_of(audio_other["path"]) != sha256_of(audio_once["path"])
    assert len(takes_of(project_id, scene_id)) == 5
    scene = scene_doc(project_id, scene_id)
    assert scene["selected_takes"] == {"image": again["take_id"], "audio": audio_other["take_id"]}


def test_a_composition_take_brings_its_shot_back_when_selected(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)
    first = make_take(user, project_id, scene_id, kind="composition", seed=3)
    second = make_take(user, project_id, scene_id, kind="composition", seed=4)
    takes = takes_of(project_id, scene_id)
    assert (
        scene_doc(project_id, scene_id)["composition"]["styling"] == takes[second["take_id"]]["composition"]["styling"]
    )

    client.call("select_take", {"project_id": project_id, "scene_id": scene_id, "take_id": first["take_id"]},
                user.id_token)  # fmt: skip

    scene = scene_doc(project_id, scene_id)
    assert scene["composition"]["styling"] == takes[first["take_id"]]["composition"]["styling"]
    assert scene["assets"]["composition_path"] == first["path"]


def test_a_storyboard_keeps_its_assets_as_takes_with_its_parameters(user: client.User) -> None:
    project_id, scene_ids = new_project(user, 2)
    request = {"project_id": project_id, "kinds": ["image"], "seed": 5, "aspect_ratio": "9:16"}
    job_id = client.call("generate_storyboard", request, user.id_token)["job_id"]
    final, _ = client.watch_job(job_id, timeout=300)
    assert final["status"] == "completed", final.get("error")

    for scene_id in scene_ids:
        (take_id, take), *others = takes_of(project_id, scene_id).items()
        assert not others and take_id == f"{job_id}-image" and take["params"] == {"seed": 5, "aspect_ratio": "9:16"}
        image = Image.open(io.BytesIO(cloud.bucket().blob(take["path"]).download_as_bytes()))
        assert image.size[1] == 1024 and image.size[0] < image.size[1]  # portrait, as asked
        assert scene_doc(project_id, scene_id)["selected_takes"]["image"] == take_id


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("generate_scene_asset", {"kind": "audio", "aspect_ratio": "16:9"}, "aspect_ratio cannot be set for audio"),
        ("generate_scene_asset", {"kind": "composition", "negative_prompt": "x"}, "for composition assets"),
        ("generate_scene_asset", {"kind": "image", "aspect_ratio": "7:5"}, "is not offered for image"),
        ("generate_scene_asset", {"kind": "video", "aspect_ratio": "21:9"}, "choose one of 16:9, 9:16, 1:1"),
        ("generate_scene_asset", {"kind": "image", "seed": -1}, "seed"),
        ("generate_scene_asset", {"kind": "image", "seed": 2**32}, "seed"),
        ("generate_scene_asset", {"kind": "image", "version": "latest"}, "version"),
        ("generate_scene_asset", {"kind": "image", "negative_prompt": "x" * 1001}, "negative_prompt"),
        ("generate_storyboard", {"aspect_ratio": "16:9"}, "cannot be set for composition"),
        ("generate_storyboard", {"kinds": ["image", "video"], "version": "a" * 64}, "exactly one kind"),
        ("start_job", {"kind": "audio", "params": {"negative_prompt": "x"}}, "cannot be set for audio"),
    ],
)
def test_parameters_a_kind_does_not_take_are_refused_naming_the_kind(
    user: client.User, name: str, data: dict[str, Any], fragment: str
) -> None:
    project_id, [scene_id] = new_project(user, 1)
    if name == "start_job":
        request: dict[str, Any] = {"type": "scene_asset", "input": {"project_id": project_id, "scene_id": scene_id,
                                                                    **data}}  # fmt: skip
    elif name == "generate_storyboard":
        request = {"project_id": project_id, **data}
    else:
        request = {"project_id": project_id, "scene_id": scene_id, **data}

    with pytest.raises(client.CallableError) as raised:
        client.call(name, request, user.id_token)

    assert raised.value.status == "INVALID_ARGUMENT" and fragment in raised.value.message, raised.value.message
    assert not takes_of(project_id, scene_id) and scene_doc(project_id, scene_id)["active_job"] is None


def test_select_take_is_for_the_owner_and_existing_takes_only(new_user: Callable[..., client.User]) -> None:
    owner, other = new_user(), new_user()
    project_id, [scene_id, other_scene] = new_project(owner, 2)
    take = make_take(owner, project_id, scene_id, seed=9)

    refusals = [
        (other, {"project_id": project_id, "scene_id": scene_id, "take_id": take["take_id"]}, "NOT_FOUND"),
        (owner, {"project_id": project_id, "scene_id": scene_id, "take_id": "nope"}, "NOT_FOUND"),
        (owner, {"project_id": project_id, "scene_id": other_scene, "take_id": take["take_id"]}, "NOT_FOUND"),
        (owner, {"project_id": project_id, "scene_id": "gone", "take_id": take["take_id"]}, "NOT_FOUND"),
        (owner, {"project_id": project_id, "scene_id": scene_id, "take_id": "../x"}, "INVALID_ARGUMENT"),
        (owner, {"project_id": project_id, "scene_id": scene_id}, "INVALID_ARGUMENT"),
    ]
    for who, data, status in refusals:
        with pytest.raises(client.CallableError) as raised:
            client.call("select_take", data, who.id_token)
        assert raised.value.status == status, (data, raised.value)
    assert scene_doc(project_id, scene_id)["selected_takes"] == {"image": take["take_id"]}
    assert scene_doc(project_id, other_scene).get("selected_takes") is None
    # A take's objects: its owner may download them, nobody else.
    urls = client.call("download_url", {"paths": [take["path"]]}, owner.id_token)["urls"]
    assert requests.get(urls[take["path"]], timeout=30).content == cloud.bucket().blob(take["path"]).download_as_bytes()
    with pytest.raises(client.CallableError) as raised:
        client.call("download_url", {"paths": [take["path"]]}, other.id_token)
    assert raised.value.status in ("NOT_FOUND", "PERMISSION_DENIED")


def test_select_take_works_while_a_job_holds_the_scene(user: client.User) -> None:
    """As the contract says: selecting is not refused while the scene generates (the newest change wins)."""
    project_id, [scene_id] = new_project(user, 1)
    first = make_take(user, project_id, scene_id, seed=1)
    second = make_take(user, project_id, scene_id, seed=2)
    busy = f"busy-{uuid.uuid4().hex[:12]}"
    cloud.db().document(f"jobs/{busy}").set({"type": "scene_asset", "owner_uid": user.uid, "status": "processing"})
    cloud.db().document(f"projects/{project_id}/scenes/{scene_id}").update(
        {"active_job": {"job_id": busy, "type": "video", "status": "processing", "progress": 10, "last_update": now()}}
    )

    client.call("select_take", {"project_id": project_id, "scene_id": scene_id, "take_id": first["take_id"]},
                user.id_token)  # fmt: skip

    scene = scene_doc(project_id, scene_id)
    assert scene["selected_takes"]["image"] == first["take_id"] and scene["assets"]["image_path"] == first["path"]
    assert scene["active_job"]["job_id"] == busy  # the running job is left alone
    assert second["take_id"] in takes_of(project_id, scene_id)
