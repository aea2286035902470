"""Spend limits: the daily budget of paid generations, and one active job per scene however
the job is started."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from mediajobs import platform
from mediajobs.cli import client
from mediajobs.jobs.store import now
from tests.integration.test_scenes import new_project, scene_doc


def budget_doc(user: client.User) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return platform.db().document(f"generation_budget/{user.uid}-{today}").get().to_dict() or {}


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
    platform.db().document(f"generation_budget/{user.uid}-{today}").update({"used": 1_000_000})
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


def test_scene_asset_through_start_job_has_the_one_job_per_scene_guard(user: client.User) -> None:
    project_id, [scene_id] = new_project(user, 1)
    busy = f"busy-{uuid.uuid4().hex[:12]}"
    platform.db().document(f"jobs/{busy}").set({"type": "scene_asset", "owner_uid": user.uid, "status": "processing"})
    platform.db().document(f"projects/{project_id}/scenes/{scene_id}").update(
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

    platform.db().document(f"jobs/{busy}").update({"status": "completed"})
    started = client.call("start_job", {"type": "scene_asset", "input": input}, user.id_token)["job_id"]
    assert scene_doc(project_id, scene_id)["active_job"]["job_id"] == started
    assert client.watch_job(started, timeout=300)[0]["status"] == "completed"
    assert scene_doc(project_id, scene_id)["assets"]["image_path"].endswith(".png")
