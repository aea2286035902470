"""The demo's storyboard step: a mood board written and drawn by the provider, one mood picked
as the storyboard's selected_mood, then every asset of every scene as one storyboard job, and
two more takes of one scene (demo_takes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.cli.demo_takes import demo_takes
from mediajobs.scenes.models import ASSET_KINDS

BRIEF = {"brand_name": "Peak", "product_description": "trail running shoes", "target_audience": "hikers",
         "key_message": "go further", "tone": "bold", "additional_notes": ""}  # fmt: skip
SCENES = ["Dawn trail", "River crossing", "Summit", "Logo"]
MOOD_FIELDS = ("name", "description", "visual_style", "color_palette", "mood_keywords", "image_paths")


def demo_storyboard(user: client.User, timeout: float, progress_bar: Callable[[str, float], dict[str, Any]]) -> bool:
    project_id = client.call(
        "create_project", {"name": "Peak autumn", "storyboard": {"title": "Autumn launch", "creative_brief": BRIEF}},
        user.id_token,
    )["project_id"]  # fmt: skip
    for title in SCENES:
        client.call("add_scene", {"project_id": project_id, "title": title, "description": f"{title}, golden light",
                                  "duration_seconds": 3}, user.id_token)  # fmt: skip

    job = client.call("start_job", {"type": "mood_board", "input": {"project_id": project_id, "count": 4}},
                      user.id_token)  # fmt: skip
    board = progress_bar(job["job_id"], timeout)
    moods = sorted((m for m in cloud.db().collection(f"projects/{project_id}/moods").stream()), key=lambda m: m.id)
    for mood in moods:
        data = mood.to_dict() or {}
        print(f"  mood {data.get('name')!r}: {' '.join(data.get('color_palette', []))}; "
              f"{', '.join(data.get('mood_keywords', []))}; {data.get('image_paths', [''])[0]}")  # fmt: skip
    if board["status"] != "completed" or not moods:
        print(f"  mood board: {board['status']} {board.get('error')}")
        return False

    chosen = {"id": moods[0].id, **{k: v for k, v in (moods[0].to_dict() or {}).items() if k in MOOD_FIELDS}}
    storyboard = {"title": "Autumn launch", "creative_brief": BRIEF, "selected_mood": chosen}
    client.call("update_project", {"project_id": project_id, "storyboard": storyboard}, user.id_token)
    print(f"  picked {chosen['name']!r} as the storyboard's mood; generating the whole storyboard as one job")

    job = client.call("generate_storyboard", {"project_id": project_id}, user.id_token)
    final = progress_bar(job["job_id"], timeout)
    project = cloud.db().collection("projects").document(project_id).get().to_dict() or {}
    shown = project.get("storyboard_job") or {}
    result = final.get("result") or {}
    print(
        f"  storyboard {final['status']}: {result.get('completed_scenes')}/{result.get('scenes')} scenes, "
        f"{result.get('generated')} assets made; project shows {shown.get('done_scenes')}/"
        f"{shown.get('total_scenes')} scenes, {shown.get('percent')}%; "
        f"{project['stats']['completed_scenes']}/{project['stats']['total_scenes']} scenes complete"
    )
    complete = project["stats"]["completed_scenes"] == len(SCENES)
    for scene in cloud.db().collection(f"projects/{project_id}/scenes").stream():
        assets = (scene.to_dict() or {}).get("assets") or {}
        complete &= all(assets.get(f"{kind}_path") for kind in ASSET_KINDS)
    return bool(final["status"] == "completed" and complete) and demo_takes(user, project_id, timeout, progress_bar)
