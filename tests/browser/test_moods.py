"""The dashboard's mood board in headless Chromium on the real local stack (tests/browser/moods.mjs):
moods generated and shown with their images and palettes, one picked as the storyboard's
selected_mood (the embedded Mood object), the whole storyboard generated as one server job."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.scenes.models import ASSET_KINDS
from tests.browser.test_dashboard import (  # noqa: F401 - pytestmark: the skip
    ARTIFACTS,
    ROOT,
    assert_looked_at,
    chromium_path,
    pytestmark,
)
from tests.integration.test_scenes import new_project, scene_doc


def test_mood_board_picker_and_whole_storyboard_in_a_real_browser() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    user = client.sign_up(f"moods-{uuid.uuid4().hex[:8]}@example.com")
    project_id, scene_ids = new_project(user, 2)
    node = shutil.which("node")
    assert node, "node is not on PATH"
    env = dict(os.environ, ARTIFACTS=str(ARTIFACTS), CHROMIUM_PATH=chromium_path(), USER_EMAIL=user.email,
               USER_PASSWORD=user.password, PROJECT_ID=project_id)  # fmt: skip
    proc = subprocess.run(
        [node, str(Path(__file__).with_name("moods.mjs"))],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    report = json.loads(lines[-1])
    assert report["ok"], f"{report.get('error')}\n{report}\n{proc.stderr[-3000:]}"

    assert len(report["moods"]) == 4
    assert all(m["swatches"] == 5 and m["image"] > 0 for m in report["moods"]), report["moods"]
    project = cloud.db().collection("projects").document(project_id).get().to_dict() or {}
    mood = cloud.db().document(f"projects/{project_id}/moods/{report['chosen']}").get().to_dict() or {}
    selected = project["storyboard"]["selected_mood"]
    assert selected["id"] == report["chosen"]
    assert {k: selected[k] for k in ("name", "color_palette", "image_paths")} == {
        k: mood[k] for k in ("name", "color_palette", "image_paths")
    }
    assert project["storyboard_job"]["status"] == "completed" and project["stats"]["completed_scenes"] == 2
    for scene_id in scene_ids:
        assert all(scene_doc(project_id, scene_id)["assets"].get(f"{k}_path") for k in ASSET_KINDS)
    assert (ARTIFACTS / "7-mood-board-storyboard.png").stat().st_size > 0
    assert_looked_at(report, ("project-moods",))
