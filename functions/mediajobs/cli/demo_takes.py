"""The demo's takes step: two more takes of one scene's image with different seeds, both kept
side by side with the storyboard's, then the first of the two selected again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from mediajobs import cloud
from mediajobs.cli import client

SEEDS = (7, 8)


def demo_takes(
    user: client.User, project_id: str, timeout: float, progress_bar: Callable[[str, float], dict[str, Any]]
) -> bool:
    scenes = cloud.db().collection(f"projects/{project_id}/scenes").order_by("scene_number").limit(1).get()
    if not scenes:
        print("  takes: the project has no scene")
        return False
    scene_ref = scenes[0].reference
    title = (scenes[0].to_dict() or {}).get("title")
    print(f"\n  takes: two more images of scene {title!r}, seeds {SEEDS[0]} and {SEEDS[1]}, 16:9")
    made: list[dict[str, Any]] = []
    for seed in SEEDS:
        request = {"project_id": project_id, "scene_id": scene_ref.id, "kind": "image", "seed": seed,
                   "aspect_ratio": "16:9"}  # fmt: skip
        final = progress_bar(client.call("generate_scene_asset", request, user.id_token)["job_id"], timeout)
        if final["status"] != "completed":
            print(f"  take with seed {seed}: {final['status']} {final.get('error')}")
            return False
        made.append(final["result"])
    bucket = cloud.bucket()
    for take in scene_ref.collection("takes").order_by("created_at").stream():
        data = take.to_dict() or {}
        if data.get("kind") != "image":
            continue
        digest = hashlib.sha256(bucket.blob(data["path"]).download_as_bytes()).hexdigest()[:12]
        print(f"  image take {take.id}: {data['path']} sha256 {digest}... params {data.get('params') or {}}")
    first = made[0]["take_id"]
    client.call("select_take", {"project_id": project_id, "scene_id": scene_ref.id, "take_id": first}, user.id_token)
    scene = scene_ref.get().to_dict() or {}
    print(f"  selected take {first}: the scene's image is now {scene['assets']['image_path']}")
    digests = {hashlib.sha256(bucket.blob(m["path"]).download_as_bytes()).digest() for m in made}
    return bool(len(digests) == 2 and scene["assets"]["image_path"] == made[0]["path"])
