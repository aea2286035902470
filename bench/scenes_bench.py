"""8 scenes x 4 asset kinds with the local provider and a fixed injected latency
(LOCAL_PROVIDER_LATENCY_MS in functions/.env.demo-mediajobs-bench): all scenes at once
against the same work one scene at a time."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.common import Row
from mediajobs.cli import client
from mediajobs.scenes.models import ASSET_KINDS


def project_with(user: client.User, scenes: int) -> tuple[str, list[str]]:
    project_id = client.call("create_project", {"name": "bench"}, user.id_token)["project_id"]
    ids = [
        client.call("add_scene", {"project_id": project_id, "title": f"S{n}", "duration_seconds": 2}, user.id_token)[
            "scene_id"
        ]
        for n in range(scenes)
    ]
    return project_id, ids


def generate_scene(user: client.User, project_id: str, scene_id: str, kinds: tuple[str, ...]) -> None:
    for kind in kinds:
        job = client.call(
            "generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": kind}, user.id_token
        )
        final, _ = client.watch_job(job["job_id"], timeout=900)
        assert final["status"] == "completed", final


def run(quick: bool = False) -> list[Row]:
    scenes = 4 if quick else 8
    user = client.sign_up(f"bench-{uuid.uuid4().hex[:8]}@example.com")
    project_id, warm = project_with(user, scenes)
    with ThreadPoolExecutor(scenes) as pool:  # start as many workers as the run uses: cold starts are not the point
        list(pool.map(lambda s: generate_scene(user, project_id, s, ASSET_KINDS), warm))
    project_id, ids = project_with(user, scenes)
    start = time.perf_counter()
    with ThreadPoolExecutor(scenes) as pool:
        list(pool.map(lambda s: generate_scene(user, project_id, s, ASSET_KINDS), ids))
    concurrent = time.perf_counter() - start
    project_id, ids = project_with(user, scenes)
    start = time.perf_counter()
    for scene_id in ids:
        generate_scene(user, project_id, scene_id, ASSET_KINDS)
    sequential = time.perf_counter() - start
    return [
        Row(f"{scenes} scenes x 4 assets, all scenes at once", sequential / concurrent, "x", 1.0,
            "one scene at a time", ">= 5"),
        Row("  wall time all at once / one at a time", concurrent, "s", sequential, "s sequential"),
    ]  # fmt: skip
