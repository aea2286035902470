"""The Library page in headless Chromium on the real local stack (run through `./dev exec`).

A real video_process job makes a library video, its owner attaches English captions, then
library_page.mjs signs in, finds the video on the Library page, plays its HLS stream until a
caption track is showing with a cue on screen, points at the timeline and gets the seek preview
(a tile of the scrubbing sprite), looks at the page (screenshots, axe-core) and deletes the video.
The test then checks that the record and every object under videos/{video_id}/ are gone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from mediajobs import cloud
from mediajobs.cli import client
from tests.browser.test_dashboard import ARTIFACTS, ROOT, STACK_VARS, assert_looked_at, chromium_path
from tests.integration.test_video import make_video, put

pytestmark = pytest.mark.skipif(
    any(not os.environ.get(name) for name in STACK_VARS),
    reason=f"needs the local stack (./dev exec -- python -m pytest tests/browser); one of {STACK_VARS} is unset",
)
SECONDS = 8
CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:07.500\nHello from the library\n"


def library_video(owner: client.User) -> str:
    source = put(owner, "library.mp4", make_video(SECONDS))
    options = {"renditions": [360], "dash": False, "mobile": False, "thumbnails": 1}
    job = client.call(
        "start_job", {"type": "video_process", "input": {"path": source, "title": "Library clip"}, "options": options},
        owner.id_token,
    )  # fmt: skip
    video_id = str(job["job_id"])
    final, _ = client.watch_job(video_id, timeout=600)
    assert final["status"] == "completed", final
    client.call("set_caption", {"video_id": video_id, "language": "en", "label": "English", "vtt": CAPTIONS},
                owner.id_token)  # fmt: skip
    return video_id


def run_page(video_id: str, user: client.User) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is not on PATH (Node.js 20+ is a prerequisite, see README)"
    env = dict(os.environ, ARTIFACTS=str(ARTIFACTS), VIDEO_ID=video_id, CHROMIUM_PATH=chromium_path(),
               USER_EMAIL=user.email, USER_PASSWORD=user.password)  # fmt: skip
    proc = subprocess.run([node, str(Path(__file__).with_name("library_page.mjs"))], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    (ARTIFACTS / "library_page.log").write_text(proc.stderr)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, f"library_page.mjs exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    assert report["ok"], f"{report.get('error')}\nsteps: {report['steps']}\n{proc.stderr[-4000:]}"
    return report


def test_the_library_plays_with_captions_and_seek_previews_and_deletes(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    user = client.sign_up(f"browser-library-{uuid.uuid4().hex[:8]}@example.com")
    video_id = library_video(user)
    record = cloud.db().document(f"videos/{video_id}").get().to_dict() or {}
    preview = record["preview"]
    assert list(cloud.bucket().list_blobs(prefix=f"videos/{video_id}/"))

    report = run_page(video_id, user)
    print(f"library page: steps {report['steps']}")

    # The HLS stream played through the stream function, with the English captions showing.
    played = report["player"]
    assert played["url"].startswith(f"{os.environ['FUNCTIONS_ORIGIN']}/stream/"), played["url"]
    assert played["url"].endswith(f"/{record['hls_master_path']}"), played["url"]
    assert played["currentTime"] >= 1.9 and played["width"] == 640, played
    assert played["offered"] == [["", "Off"], ["en", "English"]] and played["chosen"] == "en", played
    assert played["track"]["language"] == "en" and played["track"]["active"] == ["Hello from the library"], played

    # The seek preview at 78% of the timeline is the sprite's tile for that time, from the sprite.
    shown = report["preview"]
    assert shown["url"].endswith("previews.jpg") or "previews.jpg" in shown["url"], shown
    assert shown["sprite"] == [preview["columns"] * preview["tile_width"], preview["rows"] * preview["tile_height"]]
    x, y, w, h = (int(v) for v in shown["xywh"].split(","))
    assert abs(shown["at"] - SECONDS * 0.78) < 0.25, shown  # the pointer at 78% of the timeline
    index = min(preview["count"] - 1, int(shown["at"] // preview["interval_seconds"]))
    row, column = divmod(index, preview["columns"])
    assert (x, y, w, h) == (column * w, row * h, preview["tile_width"], preview["tile_height"]), (shown, index)
    assert [-float(v.removesuffix("px")) for v in shown["position"].split()] == [x, y], shown

    # Deleting on the page removed the card, the record and every object.
    assert video_id not in report["left"]
    assert not cloud.db().document(f"videos/{video_id}").get().exists
    assert list(cloud.bucket().list_blobs(prefix=f"videos/{video_id}/")) == []
    assert (ARTIFACTS / "library-1-playing.png").stat().st_size > 0
    assert_looked_at(report, ("library",))
