"""The original storyboard client's data and features on the real local stack: the embedded
Mood object, storyboard ids, provider-written mood boards, and whole-storyboard generation."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from google.cloud import firestore as gfs
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.scenes.models import ASSET_KINDS
from tests.integration.test_scenes import BRIEF, new_project, scene_doc

SEED_MOOD = {
    "id": "mood-5e1d9c",
    "name": "Golden Hour",
    "description": "Low sun, long shadows, warm skin tones",
    "visual_style": "warm film grain",
    "color_palette": ["#ffb347", "#ff6961", "#2e1a47", "#fdfd96", "#77dd77"],
    "mood_keywords": ["warm", "nostalgic", "summer"],
    "images": [{"id": "img-1", "url": "https://example.com/moods/golden.png"}],
}


def project_doc(project_id: str) -> dict[str, Any]:
    return cloud.db().collection("projects").document(project_id).get().to_dict() or {}


def png_at(path: str) -> Image.Image:
    return Image.open(io.BytesIO(cloud.bucket().blob(path).download_as_bytes())).convert("RGB")


def hex_of(pixel: Any) -> str:
    return "#{:02x}{:02x}{:02x}".format(*pixel[:3])


def test_the_seeds_embedded_mood_and_storyboard_id_round_trip_and_colour_the_scene(user: client.User) -> None:
    storyboard = {**BRIEF, "id": "storyboard-42", "selected_mood": SEED_MOOD}
    project_id = client.call("create_project", {"name": "Legacy", "storyboard": storyboard}, user.id_token)[
        "project_id"
    ]
    stored = project_doc(project_id)["storyboard"]
    assert stored["id"] == "storyboard-42"
    assert stored["selected_mood"] == SEED_MOOD  # as given: nothing added, nothing lost

    scene_id = client.call(
        "add_scene", {"project_id": project_id, "title": "Beach", "description": "run", "duration_seconds": 2},
        user.id_token,
    )["scene_id"]  # fmt: skip
    job = client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "image"},
                      user.id_token)  # fmt: skip
    final, _ = client.watch_job(job["job_id"], timeout=300)
    assert final["status"] == "completed", final
    image = png_at(scene_doc(project_id, scene_id)["assets"]["image_path"])
    bands = {hex_of(image.getpixel((x, image.height - 5))) for x in range(10, image.width, image.width // 5)}
    assert bands == set(SEED_MOOD["color_palette"])  # the embedded mood's palette was used

    client.call("update_project", {"project_id": project_id, "storyboard": {**storyboard, "selected_mood": "m-1"}},
                user.id_token)  # fmt: skip
    assert project_doc(project_id)["storyboard"]["selected_mood"] == "m-1"
    with pytest.raises(client.CallableError) as raised:
        bad = {**storyboard, "selected_mood": {**SEED_MOOD, "color_palette": ["sunset"]}}
        client.call("update_project", {"project_id": project_id, "storyboard": bad}, user.id_token)
    assert raised.value.status == "INVALID_ARGUMENT" and "selected_mood" in raised.value.message


def test_mood_boards_are_written_and_drawn_by_the_provider(user: client.User) -> None:
    project_id, _ = new_project(user, 1)
    job = client.call("start_job", {"type": "mood_board", "input": {"project_id": project_id, "count": 3}},
                      user.id_token)  # fmt: skip
    final, _ = client.watch_job(job["job_id"], timeout=300)
    assert final["status"] == "completed", final
    moods = [m.to_dict() or {} for m in cloud.db().collection(f"projects/{project_id}/moods").stream()]
    assert len(moods) == 3 and len({m["name"] for m in moods}) == 3
    for mood in moods:
        assert mood["id"] and mood["description"] and mood["visual_style"] and mood["mood_keywords"]
        image = png_at(mood["image_paths"][0])
        bands = {hex_of(image.getpixel((x, image.height - 5))) for x in range(10, image.width, image.width // 5)}
        assert bands == set(mood["color_palette"])  # the image model drew the written palette
    chosen = {k: moods[0][k] for k in ("id", "name", "description", "visual_style", "color_palette", "mood_keywords",
                                       "image_paths")}  # fmt: skip
    client.call("update_project", {"project_id": project_id, "storyboard": {**BRIEF, "selected_mood": chosen}},
                user.id_token)  # fmt: skip
    assert project_doc(project_id)["storyboard"]["selected_mood"] == chosen


def test_the_storyboard_job_completes_every_scene_one_job_per_scene(user: client.User) -> None:
    project_id, scene_ids = new_project(user, 3)
    first = client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_ids[0], "kind": "video"},
                        user.id_token)["job_id"]  # fmt: skip
    seen: list[dict[str, Any]] = []
    project_ref = cloud.db().collection("projects").document(project_id)
    updates = threading.Event()

    def on_project(docs: list[Any], _changes: Any, _time: Any) -> None:
        for doc in docs:
            if shown := (doc.to_dict() or {}).get("storyboard_job"):
                seen.append(shown)
                updates.set()

    watch = project_ref.on_snapshot(on_project)
    try:
        job_id = client.call("generate_storyboard", {"project_id": project_id}, user.id_token)["job_id"]
        final, _ = client.watch_job(job_id, timeout=600)
        first_final, _ = client.watch_job(first, timeout=300)
        updates.wait(10)
    finally:
        watch.unsubscribe()

    assert final["status"] == "completed", final
    assert first_final["status"] == "completed"
    result = final["result"]
    assert result["scenes"] == result["completed_scenes"] == 3 and result["failed_scenes"] == []
    assert result["generated"] + result["already_there"] == 12
    project = project_doc(project_id)
    assert project["stats"]["completed_scenes"] == 3
    for scene_id in scene_ids:
        scene = scene_doc(project_id, scene_id)
        assert all(scene["assets"].get(f"{kind}_path") for kind in ASSET_KINDS), scene["assets"]
        assert scene["active_job"]["status"] == "completed"
    # The scene_asset job's video was kept, not made twice: it held the scene first or finished first.
    assert scene_doc(project_id, scene_ids[0])["assets"]["video_path"].endswith(f"/video/{first}.mp4")
    shown = project["storyboard_job"]
    assert shown["job_id"] == job_id and shown["status"] == "completed" and shown["percent"] == 100
    assert shown["done_scenes"] == shown["total_scenes"] == 3
    percents = [s["percent"] for s in seen if s["job_id"] == job_id]
    assert percents == sorted(percents) and percents[-1] == 100


def test_a_storyboard_job_is_refused_for_someone_elses_project(new_user) -> None:  # type: ignore[no-untyped-def]
    owner, other = new_user(), new_user()
    project_id, _ = new_project(owner, 1)
    with pytest.raises(client.CallableError) as raised:
        client.call("generate_storyboard", {"project_id": project_id}, other.id_token)
    assert raised.value.status == "NOT_FOUND"


def test_a_scene_busy_with_another_job_waits_and_is_then_completed(user: client.User) -> None:
    """The storyboard never takes a scene over from another active job: it waits for it to end."""
    project_id, scene_ids = new_project(user, 2)
    busy_scene = cloud.db().document(f"projects/{project_id}/scenes/{scene_ids[0]}")
    other_job = cloud.db().collection("jobs").document()
    other_job.set({"type": "scene_asset", "owner_uid": user.uid, "status": "processing",
                   "input": {"project_id": project_id, "scene_id": scene_ids[0], "kind": "image"}})  # fmt: skip
    busy_scene.update({"active_job": {"job_id": other_job.id, "type": "image", "status": "processing", "progress": 50,
                                      "last_update": gfs.SERVER_TIMESTAMP}})  # fmt: skip

    job_id = client.call("generate_storyboard", {"project_id": project_id}, user.id_token)["job_id"]
    deadline = time.monotonic() + 120
    while not all(scene_doc(project_id, scene_ids[1]).get("assets", {}).get(f"{k}_path") for k in ASSET_KINDS):
        assert time.monotonic() < deadline, "the free scene was not generated"
        time.sleep(0.5)
    held = scene_doc(project_id, scene_ids[0])
    assert held["active_job"]["job_id"] == other_job.id and not held.get("assets", {}).get("image_path")

    other_job.update({"status": "completed"})
    busy_scene.update({"active_job.status": "completed"})
    final, _ = client.watch_job(job_id, timeout=300)

    assert final["status"] == "completed", final
    released = scene_doc(project_id, scene_ids[0])
    assert released["active_job"]["job_id"] == job_id and released["active_job"]["status"] == "completed"
    assert all(released["assets"].get(f"{k}_path") for k in ASSET_KINDS)


def test_a_storyboard_of_a_project_without_scenes_is_refused_at_once(user: client.User) -> None:
    project_id, _ = new_project(user, 0)
    with pytest.raises(client.CallableError) as raised:
        client.call("generate_storyboard", {"project_id": project_id}, user.id_token)
    assert raised.value.status == "FAILED_PRECONDITION" and "add a scene first" in str(raised.value)
    jobs = cloud.db().collection("jobs").where(filter=gfs.FieldFilter("owner_uid", "==", user.uid)).stream()
    assert [j.id for j in jobs if (j.to_dict() or {}).get("type") == "storyboard_assets" and
            (j.to_dict() or {}).get("input", {}).get("project_id") == project_id] == []  # fmt: skip
