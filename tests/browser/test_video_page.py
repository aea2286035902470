"""The Video page in headless Chromium on the real local stack (run through `./dev exec`).

video_page.mjs uploads a clip on the page (resumable, with a progress bar), follows the job's
card to 100% through the listener without a reload, waits for the thumbnails, then plays the
result with hls.js and with dash.js from the URLs download_url gave the page, until
`currentTime` passes 2 s in each. If this Chromium could not decode H.264 through Media Source
Extensions it would say so (`can_decode_h264`) and check instead that each player buffered at
least 2 s of every track; Debian's Chromium here decodes it, so the test requires playback.
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
from mediajobs.video.ffmpeg import executable
from tests.browser.test_dashboard import ARTIFACTS, ROOT, STACK_VARS, assert_looked_at, chromium_path

pytestmark = pytest.mark.skipif(
    any(not os.environ.get(name) for name in STACK_VARS),
    reason=f"needs the local stack (./dev exec -- python -m pytest tests/browser); one of {STACK_VARS} is unset",
)
SECONDS = 6


def clip(path: Path) -> None:
    """A 720p clip with sound, noisy enough (about 2.5 MB) that the upload takes several chunks."""
    subprocess.run(
        [executable(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=24:duration={SECONDS},noise=alls=8:allf=t",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
         "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3400k", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", str(path)],
        check=True,
    )  # fmt: skip


def run_page(video: Path, user: client.User) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is not on PATH (Node.js 20+ is a prerequisite, see README)"
    env = dict(os.environ, ARTIFACTS=str(ARTIFACTS), VIDEO_FILE=str(video), CHROMIUM_PATH=chromium_path(),
               USER_EMAIL=user.email, USER_PASSWORD=user.password)  # fmt: skip
    proc = subprocess.run([node, str(Path(__file__).with_name("video_page.mjs"))], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    (ARTIFACTS / "video_page.log").write_text(proc.stderr)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, f"video_page.mjs exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    assert report["ok"], f"{report.get('error')}\nsteps: {report['steps']}\n{proc.stderr[-4000:]}"
    return report


def test_upload_follow_and_play_hls_and_dash_on_the_video_page(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    video = tmp_path / "clip.mp4"
    clip(video)
    user = client.sign_up(f"browser-video-{uuid.uuid4().hex[:8]}@example.com")

    report = run_page(video, user)
    print(f"video page: steps {report['steps']}, upload {report['uploaded']}, card {report['progress']}")

    # The resumable upload reported progress chunk by chunk, and the object is the file.
    uploaded = report["uploaded"]
    assert uploaded[-1] == 100 and any(0 < p < 100 for p in uploaded) and uploaded == sorted(uploaded), uploaded
    job = cloud.db().collection("jobs").document(report["job_id"]).get().to_dict() or {}
    assert job["owner_uid"] == user.uid and job["type"] == "video_process"
    assert cloud.bucket().blob(job["input"]["path"]).download_as_bytes() == video.read_bytes()

    # The card followed the job to 100% through the listener, without a reload.
    assert report["status"] == "completed", report
    seen = report["progress"]
    assert seen[-1] == ["completed", 100], seen
    assert [p for _, p in seen] == sorted(p for _, p in seen), f"progress went back: {seen}"
    assert any(status == "processing" and percent < 100 for status, percent in seen), seen
    assert report["load_marker"] == "first-load" and report["navigations"] == 1, "the page was reloaded"
    assert len(report["thumbnails"]) == 4 and all(w > 0 and h > 0 for w, h in report["thumbnails"])

    # Both players played the job's streams through the stream function.
    for engine, field in (("hls", "hls_master_path"), ("dash", "dash_manifest_path")):
        played = report["players"][engine]
        assert played["url"].startswith(f"{os.environ['FUNCTIONS_ORIGIN']}/stream/"), played["url"]
        assert played["url"].endswith(f"/{job['result'][field]}"), (played["url"], job["result"][field])
        assert played["error"] is None, (engine, played)
        if report["can_decode_h264"]:
            assert played["currentTime"] > 2, (engine, played)
            assert played["width"] in (640, 1280), (engine, played)  # a rendition of the job, decoded
        else:  # said so by MediaSource.isTypeSupported: what the players fetched is checked instead
            print("this Chromium cannot decode H.264/AAC through MSE: checking buffered time, not playback")
            assert played["buffered"] and played["buffered"][-1][1] >= 2, (engine, played)
    assert (ARTIFACTS / "video-1-hls.png").stat().st_size > 0
    assert_looked_at(report, ("video",))
