"""Spend limits: the daily budget of paid generations (a storyboard is charged what it will
generate), and one active job per scene however the job is started."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs.store import now
from mediajobs.scenes.models import ASSET_KINDS
from tests.integration.test_scenes import new_project, scene_doc

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
pytestmark = pytest.mark.usefixtures("one_budget_day")  # the budget is per UTC day


def budget_doc(user: client.User) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return cloud.db().document(f"generation_budget/{user.uid}-{today}").get().to_dict() or {}


def daily_limit() -> int:
    """DAILY_GENERATIONS_PER_USER as the emulated functions read it (.env, the project's, .env.local)."""
    limit = 100  # the param's default
    for name in (".env", f".env.{os.environ.get('GCLOUD_PROJECT', '')}", ".env.local"):
        path = FUNCTIONS / name
        for line in path.read_text().splitlines() if path.is_file() else []:
            if line.startswith("DAILY_GENERATIONS_PER_USER="):
                limit = int(line.split("=", 1)[1])
    return limit


def set_used(user: client.User, used: int) -> None:
    today = dt.datetime.now(dt.UTC).date()
    cloud.db().document(f"generation_budget/{user.uid}-{today.isoformat()}").set(
        {"uid": user.uid, "day": today.isoformat(), "used": used, "expire_at": now() + dt.timedelta(days=2)}
    )


def test_paid_generations_are_counted_per_user_and_day_and_capped(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)

    asset = client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "image"},
                        user.id_token)  # fmt: skip
    moods = client.call("start_job", {"type": "mood_board", "input": {"project_id": project_id, "count": 3}},
                        user.id_token)  # fmt: skip
    assert budget_doc(user)["used"] == 4  # 1 asset + 3 mood images
    assert budget_doc(user)["expire_at"] > now()
    for job_id in (asset["job_id"], moods["job_id"]):
        assert client.watch_job(job_id, timeout=300)[0]["status"] == "completed"

    today = dt.datetime.now(dt.UTC).date().isoformat()
    cloud.db().document(f"generation_budget/{user.uid}-{today}").update({"used": 1_000_000})
    for name, data in [
        ("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "audio"}),
        ("start_job", {"type": "mood_board", "input": {"project_id": project_id, "count": 1}}),
        ("start_job", {"type": "scene_asset", "input": {"project_id": project_id, "scene_id": scene_id,
                                                          "kind": "audio"}}),
    ]:  # fmt: skip
        with pytest.raises(client.CallableError) as raised:
            client.call(name, data, user.id_token)
        assert raised.value.status == "RESOURCE_EXHAUSTED", raised.value
        assert "DAILY_GENERATIONS_PER_USER" in raised.value.message
    assert budget_doc(user)["used"] == 1_000_000
    # jobs that cost nothing are not limited by it
    client.call("start_job", {"type": "selftest", "input": {"items": 1}}, user.id_token)


def test_every_take_is_counted_even_of_a_kind_the_scene_already_has(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)
    set_used(user, 0)
    for seed in (1, 2, 3):
        request = {"project_id": project_id, "scene_id": scene_id, "kind": "image", "seed": seed}
        job_id = client.call("generate_scene_asset", request, user.id_token)["job_id"]
        assert client.watch_job(job_id, timeout=300)[0]["status"] == "completed"
        assert budget_doc(user)["used"] == seed  # one per take
    takes = cloud.db().document(f"projects/{project_id}/scenes/{scene_id}").collection("takes").get()
    assert len(takes) == 3

    set_used(user, daily_limit())
    with pytest.raises(client.CallableError) as raised:
        client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "image",
                                             "seed": 4}, user.id_token)  # fmt: skip
    assert raised.value.status == "RESOURCE_EXHAUSTED"
    assert len(cloud.db().document(f"projects/{project_id}/scenes/{scene_id}").collection("takes").get()) == 3


def test_scene_asset_through_start_job_has_the_one_job_per_scene_guard(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)
    busy = f"busy-{uuid.uuid4().hex[:12]}"
    cloud.db().document(f"jobs/{busy}").set({"type": "scene_asset", "owner_uid": user.uid, "status": "processing"})
    cloud.db().document(f"projects/{project_id}/scenes/{scene_id}").update(
        {"active_job": {"job_id": busy, "type": "video", "status": "processing", "last_update": now()}}
    )
    input = {"project_id": project_id, "scene_id": scene_id, "kind": "image"}

    with pytest.raises(client.CallableError) as through_start_job:
        client.call("start_job", {"type": "scene_asset", "input": input}, user.id_token)
    with pytest.raises(client.CallableError) as through_generate:
        client.call("generate_scene_asset", input, user.id_token)

    for raised in (through_start_job, through_generate):
        assert raised.value.status == "FAILED_PRECONDITION" and "already generating" in raised.value.message
    assert scene_doc(project_id, scene_id)["active_job"]["job_id"] == busy
    assert not budget_doc(user)  # nothing charged for jobs that were not created

    cloud.db().document(f"jobs/{busy}").update({"status": "completed"})
    started = client.call("start_job", {"type": "scene_asset", "input": input}, user.id_token)["job_id"]
    assert scene_doc(project_id, scene_id)["active_job"]["job_id"] == started
    assert client.watch_job(started, timeout=300)[0]["status"] == "completed"
    assert scene_doc(project_id, scene_id)["assets"]["image_path"].endswith(".png")


def test_a_storyboard_is_charged_its_scenes_missing_kinds_and_refused_when_they_do_not_fit(user: client.User) -> None:
    """As with DAILY_GENERATIONS_PER_USER=4: 4 generations left, and a storyboard of 3 scenes
    (12 assets to make) is refused before anything reaches the provider."""
    project_id, scene_ids = new_project(user, 3)
    limit = daily_limit()
    set_used(user, limit - 4)

    with pytest.raises(client.CallableError) as raised:
        client.call("generate_storyboard", {"project_id": project_id}, user.id_token)

    assert raised.value.status == "RESOURCE_EXHAUSTED", raised.value
    assert "needs 12 paid generation(s) and 4 of today's" in raised.value.message
    assert "DAILY_GENERATIONS_PER_USER" in raised.value.message
    assert budget_doc(user)["used"] == limit - 4  # nothing charged
    jobs = cloud.db().collection("jobs").where(filter=gfs.FieldFilter("owner_uid", "==", user.uid)).get()
    assert [j.id for j in jobs] == []  # no job, so no prediction was asked for
    for scene_id in scene_ids:
        scene = scene_doc(project_id, scene_id)
        assert scene["assets"] == {} and scene["active_job"] is None
    assert not list(cloud.bucket().list_blobs(prefix=f"projects/{project_id}/"))

    # Exactly scenes x missing kinds is charged, when the job is created; kinds already there are free.
    set_used(user, limit - 12)
    job_id = client.call("generate_storyboard", {"project_id": project_id}, user.id_token)["job_id"]
    assert budget_doc(user)["used"] == limit
    final, _ = client.watch_job(job_id, timeout=600)
    assert final["status"] == "completed" and final["result"]["generated"] == 12, final
    again = client.call("generate_storyboard", {"project_id": project_id, "kinds": list(ASSET_KINDS)}, user.id_token)
    assert budget_doc(user)["used"] == limit  # nothing left to make: it costs nothing
    final, _ = client.watch_job(again["job_id"], timeout=300)
    assert final["status"] == "completed" and final["result"]["already_there"] == 12, final
    with pytest.raises(client.CallableError) as raised:  # one more asset does not fit
        client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_ids[0], "kind": "image"},
                    user.id_token)  # fmt: skip
    assert raised.value.status == "RESOURCE_EXHAUSTED"
