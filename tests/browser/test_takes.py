"""Generation takes in the dashboard, in headless Chromium on the real local stack
(tests/browser/takes.mjs): two image takes of one scene with different seeds made from the
page with the local provider, shown side by side, the first selected again. The second seed is
typed while the scene changes (another client's write): the field keeps its focus and text."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from mediajobs import cloud
from mediajobs.cli import client
from tests.browser.test_dashboard import (  # noqa: F401 - pytestmark: the skip
    ARTIFACTS,
    ROOT,
    assert_looked_at,
    chromium_path,
    pytestmark,
)
from tests.integration.test_scenes import new_project, scene_doc


def test_two_takes_side_by_side_and_the_first_selected_in_a_real_browser() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    user = client.sign_up(f"takes-{uuid.uuid4().hex[:8]}@example.com")
    project_id, [scene_id] = new_project(user, 1)
    node = shutil.which("node")
    assert node, "node is not on PATH"
    env = dict(os.environ, ARTIFACTS=str(ARTIFACTS), CHROMIUM_PATH=chromium_path(), USER_EMAIL=user.email,
               USER_PASSWORD=user.password, PROJECT_ID=project_id, SCENE_ID=scene_id)  # fmt: skip
    proc = subprocess.run(
        [node, str(Path(__file__).with_name("takes.mjs"))],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    report = json.loads(lines[-1])
    assert report["ok"], f"{report.get('error')}\n{report}\n{proc.stderr[-3000:]}"

    assert report["typed"] == "22"  # a scene update while typing the seed did not take the field's focus
    shown = report["takes"]
    assert len(shown) == 2 and [t["selected"] for t in shown] == [False, True]  # the newest was selected
    assert ["seed 11" in shown[0]["text"], "seed 22" in shown[1]["text"], "blur" in shown[0]["text"]] == [True] * 3
    assert all(t["width"] == t["height"] > 0 for t in shown)  # square thumbnails: 1:1 was asked for
    takes = {
        snap.id: snap.to_dict() or {}
        for snap in cloud.db().document(f"projects/{project_id}/scenes/{scene_id}").collection("takes").stream()
    }
    assert set(takes) == {t["id"] for t in shown}
    first, second = (takes[t["id"]] for t in shown)
    assert (first["params"], second["params"]) == (
        {"seed": 11, "aspect_ratio": "1:1", "negative_prompt": "blur"},
        {"seed": 22, "aspect_ratio": "1:1"},
    )
    bucket = cloud.bucket()
    digests = [hashlib.sha256(bucket.blob(t["path"]).download_as_bytes()).hexdigest() for t in (first, second)]
    assert digests[0] != digests[1]  # both kept, each its own bytes

    scene = scene_doc(project_id, scene_id)
    assert report["selected"] == shown[0]["id"] == scene["selected_takes"]["image"]
    assert report["shown_path"] == first["path"] == scene["assets"]["image_path"]
    assert report["pressed"] == ["true", "false"]
    for name in ("takes-two.png", "takes-first-selected.png"):
        assert (ARTIFACTS / name).stat().st_size > 0
    assert_looked_at(report, ("project-takes",))
