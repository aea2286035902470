"""A generation provider that hangs: the scene job ends at the deadline with a clear error,
the prediction is cancelled, and the scene is free for the next generation.

The stack's scenes use Replicate at a fixed local port (functions/.env.demo-mediajobs-faults,
REPLICATE_TIMEOUT_SECONDS=8, polled); tests/fake_replicate.py serves it here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.scenes.providers import local
from mediajobs.scenes.providers.base import ScenePrompt
from tests.fake_replicate import FakeReplicate
from tests.faults.conftest import REPLICATE_PORT, project_param
from tests.integration.test_scenes import new_project, scene_doc

DEADLINE_SECONDS = int(project_param("REPLICATE_TIMEOUT_SECONDS"))


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    prompt = ScenePrompt("p", "s", "image", "t", "d", 4, {}, None)
    try:
        server = FakeReplicate("whsec_" + "A" * 32, {"image": (local.image_png(prompt, (320, 180)), "image/png")},
                               port=REPLICATE_PORT)  # fmt: skip
    except OSError as error:
        pytest.fail(f"port {REPLICATE_PORT} of the fake Replicate is taken (another make test-faults?): {error}")
    yield server
    server.close()


def generate(user: client.User, project_id: str, scene_id: str) -> tuple[dict[str, Any], float]:
    job_id = client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": "image"},
                         user.id_token)["job_id"]  # fmt: skip
    started = time.monotonic()
    final, _ = client.watch_job(job_id, timeout=300)
    return final, time.monotonic() - started


def mirrored(project_id: str, scene_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (scene := scene_doc(project_id, scene_id))["active_job"]["status"] != status:
        assert time.monotonic() < deadline, scene["active_job"]
        time.sleep(0.25)
    return scene


def test_a_hung_prediction_ends_the_scene_job_at_the_deadline_and_is_cancelled(
    user: client.User, fake: FakeReplicate
) -> None:
    project_id, (scene_id,) = new_project(user, 1)
    fake.behaviour = "hang"

    final, took = generate(user, project_id, scene_id)

    assert final["status"] == "failed", final
    (prediction_id,) = fake.predictions
    assert fake.cancels == [prediction_id]
    assert fake.predictions[prediction_id].status == "canceled"
    error = final["errors"][0]
    assert error["code"] == "provider-timeout"
    assert error["message"] == (
        f"Replicate prediction {prediction_id} did not finish within {DEADLINE_SECONDS}s; it was cancelled. "
        "Try again later."
    )
    assert final["error"]["code"] in ("provider-timeout", "all-items-failed"), final["error"]
    # The deadline, one poll interval and the stack's own latency (cold worker included).
    assert DEADLINE_SECONDS <= took < DEADLINE_SECONDS + 45, took
    scene = mirrored(project_id, scene_id, "failed")  # the mirror follows the job's final write
    assert "did not finish within" in scene["active_job"]["error_message"]
    assert not (scene.get("assets") or {}).get("image_path")
    news = cloud.db().collection("replicate_predictions").document(prediction_id).get().to_dict() or {}
    assert news.get("status") in ("starting", "processing", "canceled"), news

    # The scene is not left busy: the next generation, with the provider well again, completes.
    fake.behaviour = "succeed"
    final, _ = generate(user, project_id, scene_id)
    assert final["status"] == "completed", final
    path = scene_doc(project_id, scene_id)["assets"]["image_path"]
    assert cloud.bucket().blob(path).download_as_bytes().startswith(b"\x89PNG")
    print(f"hung provider: the job ended {took:.1f}s after it started (deadline {DEADLINE_SECONDS}s)")
