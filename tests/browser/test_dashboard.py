"""The web dashboard in headless Chromium on the real local stack (run through `./dev exec`).

dashboard.mjs drives the page served by the Hosting emulator: sign-in, a long job cancelled
from the Jobs page, a ZIP of photos dropped on the Photos page and followed through the
Firestore listener to 100% (no reload), the before/after gallery, results.zip downloaded, a
project whose scene image is generated and shown, a second user (signed up on the page) who
sees none of the first user's jobs, and an admin who exports two users from the Export page
and downloads an archive. This test prepares users and input, then checks what the browser saw
and what it downloaded. Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mediajobs import cloud
from mediajobs.cli import client, seed
from tests import photo_fixtures as fx
from tests.integration.jobs_helpers import start_selftest
from tests.integration.test_item_progress import big_export_user

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
STACK_VARS = ("HOSTING_ORIGIN", "FIRESTORE_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST", "FUNCTIONS_ORIGIN")
PHOTOS = ("astronaut", "coffee", "chelsea")

pytestmark = pytest.mark.skipif(
    any(not os.environ.get(name) for name in STACK_VARS),
    reason=f"needs the local stack (./dev exec -- python -m pytest tests/browser); one of {STACK_VARS} is unset",
)


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"no Chromium at {path}: run scripts/setup (installs Debian's chromium) or set CHROMIUM_PATH")
    return path


def run_dashboard(
    zip_path: Path,
    user: client.User,
    cancel_job_id: str,
    admin: client.User,
    export_user_ids: list[str],
    *,
    failing_job_id: str,
) -> tuple[dict[str, Any], float]:
    node = shutil.which("node")
    assert node, "node is not on PATH (Node.js 20+ is a prerequisite, see README)"
    env = dict(
        os.environ,
        ARTIFACTS=str(ARTIFACTS),
        PHOTO_ZIP=str(zip_path),
        CHROMIUM_PATH=chromium_path(),
        USER_EMAIL=user.email,
        USER_PASSWORD=user.password,
        CANCEL_JOB_ID=cancel_job_id,
        FAILING_JOB_ID=failing_job_id,
        ADMIN_EMAIL=admin.email,
        ADMIN_PASSWORD=admin.password,
        EXPORT_USER_IDS=",".join(export_user_ids),
    )
    started = time.monotonic()
    proc = subprocess.run(
        [node, str(Path(__file__).with_name("dashboard.mjs"))],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    elapsed = time.monotonic() - started
    (ARTIFACTS / "dashboard.log").write_text(proc.stderr)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, f"dashboard.mjs exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    assert report["ok"], f"{report.get('error')}\nsteps: {report['steps']}\n{proc.stderr[-4000:]}"
    return report, elapsed


def test_dashboard_end_to_end_in_a_real_browser(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    zip_path = tmp_path / "photos.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for name in PHOTOS:
            archive.writestr(f"{name}.jpg", fx.photo(name, size=(256, 256)))

    user = client.sign_up(f"browser-{uuid.uuid4().hex[:8]}@example.com")
    admin = client.sign_up(f"browser-admin-{uuid.uuid4().hex[:8]}@example.com", admin=True)
    export_user_ids = seed.seed_demo_users(2, prefix=f"browser-{uuid.uuid4().hex[:6]}")
    export_user_ids.append(big_export_user().id)  # archived for seconds: its row's bar moves
    # Cancelled from the Jobs page: long enough (two chunks of five 20 s items) to outlast a cold
    # browser start, with items still pending when the cancel lands (so it ends `cancelled`).
    long_job_id = start_selftest(user, items=10, sleep_ms=20_000)
    # Shown on the Jobs page with its problems: one item crashes (internal, with an incident id), one is rejected.
    failing_job_id = start_selftest(user, items=2, fail_items=[0], reject_items=[1])

    report, elapsed = run_dashboard(zip_path, user, long_job_id, admin, export_user_ids, failing_job_id=failing_job_id)
    print(f"browser run: {elapsed:.1f}s, steps: {report['steps']}, job card states: {report['progress']}")

    assert report["uid"] == user.uid
    cancelled = cloud.db().collection("jobs").document(long_job_id).get().to_dict() or {}
    assert cancelled["status"] == "cancelled" and cancelled["cancel_requested"] is True

    # Progress came through the listener, moved, and reached 100% on the page it started on.
    assert report["photo_status"] == "completed", report
    seen = report["progress"]
    assert seen[-1] == ["completed", 100] and report["bar_width"] == "100%", seen
    percents = [percent for _, percent in seen]
    assert percents == sorted(percents), f"progress went back: {seen}"
    assert any(status in ("queued", "processing") and percent < 100 for status, percent in seen), (
        f"the card was never seen before the end: {seen}"
    )
    assert report["load_marker"] == "first-load" and report["navigations"] == 1, "the page was reloaded"

    # The gallery shows each photo before and after.
    assert len(report["gallery"]) == len(PHOTOS)
    assert all(pair["before"] > 0 and pair["after"] > 0 for pair in report["gallery"]), report["gallery"]

    # results.zip as the browser downloaded it: the job's outputs, real PNGs.
    job = cloud.db().collection("jobs").document(report["photo_job_id"]).get().to_dict() or {}
    assert job["owner_uid"] == report["uid"]
    outputs = sorted(path.rsplit("/", 1)[1] for path in job["result"]["outputs"])
    assert outputs == sorted(f"{name}.png" for name in PHOTOS)
    with zipfile.ZipFile(report["download_path"]) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == outputs
        for name in outputs:
            image = Image.open(io.BytesIO(archive.read(name)))
            image.load()
            assert image.format == "PNG" and image.mode == "RGBA" and image.width > 0

    # The scene's generated image was shown, and it is the one recorded on the scene.
    scene_image = report["scene_image"]
    assert scene_image["width"] > 0 and scene_image["height"] > 0
    assert scene_image["path"].startswith(f"projects/{report['project_id']}/scenes/")
    assert report["photo_job_id"] in report["my_jobs"]

    # The failed items are named on their job's card with their code, and the crash with its incident id.
    failing = cloud.db().collection("jobs").document(failing_job_id).get().to_dict() or {}
    incidents = [e["incident_id"] for e in failing["errors"] if e.get("incident_id")]
    assert incidents and all(incident in report["failing_card"] for incident in incidents), report["failing_card"]
    assert "internal" in report["failing_card"] and "rejected" in report["failing_card"], report["failing_card"]

    # The project was edited on the page (update_project, update_scene) and then deleted with its scenes.
    assert "Renamed project" in report["project_header"], report["project_header"]
    assert "Keep it under 10 seconds" in report["project_brief"], report["project_brief"]
    assert [title.split(". ", 1)[1] for title in report["scene_titles"]] == ["Finale", "Sunrise sprint"], report
    assert [title.split(". ", 1)[0] for title in report["scene_titles"]] == ["1", "2"], report
    assert len(report["scene_titles_after_delete"]) == 1, report
    project_scenes = cloud.db().collection("projects").document(report["project_id"]).collection("scenes")
    assert not project_scenes.document(report["deleted_scene"]).get().exists
    project_ref = cloud.db().collection("projects").document(report["project_id"])
    assert not project_ref.get().exists and not list(project_ref.collection("scenes").stream())

    # A second user sees none of the first user's jobs.
    assert report["other_uid"] != report["uid"]
    assert report["other_jobs"] == [], report["other_jobs"]
    assert "No jobs yet" in report["other_empty_text"]
    assert report["export_nav_hidden"], "a user who is not an admin was offered the Export page"

    assert report["admin_sees_others"], "the admin's Jobs page did not show another user's job"

    # The admin's export: every user archived, and the archive the browser downloaded is a ZIP.
    assert report["export_rows"] == ["done"] * len(export_user_ids)
    assert 0 < (report["export_partial_bar"] or 0) < 100, "the big user's bar showed its bytes while running"
    with zipfile.ZipFile(report["export_download_path"]) as archive:
        assert archive.testzip() is None and "manifest.json" in archive.namelist()

    for name in (
        "0-jobs-cancelled",
        "1-photos-started",
        "2-photos-gallery",
        "3-project-scene-image",
        "4-jobs",
        "5-other-user-jobs",
        "6-admin-export",
    ):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 0

    # On a phone the navigation is folded behind Menu, which shows the seven pages of a user: Jobs,
    # Photos, Video, Library, Projects, Your data and Settings (Export is for administrators).
    assert report["menu"] == [{"folded": True, "links": 7}] * 2, report["menu"]

    # Every page looked at as people would (tour.mjs): both viewports, both themes, no findings.
    assert_looked_at(report, ("signin", "jobs", "photos", "photo-viewer", "projects", "jobs-first-run",
                              "photos-first-run", "projects-first-run", "export"))  # fmt: skip


def assert_looked_at(report: dict[str, Any], pages: tuple[str, ...]) -> None:
    """Each page was screenshotted at 1280x800 and 390x844 in the light and dark themes, and tour.mjs
    found no horizontal overflow, overlapping controls, small tap targets, internals in the text or
    serious/critical axe-core violations."""
    shots = {Path(path).name for path in report["shots"]}
    for page in pages:
        for viewport in ("desktop", "phone"):
            for theme in ("light", "dark"):
                name = f"{page}-{viewport}-{theme}.png"
                assert name in shots and (ARTIFACTS / "screens" / name).stat().st_size > 0, name
    problems = "\n".join(
        f"{f['page']} {f['viewport']} {f['theme']}: {f['kind']}: {f['detail']}" for f in report["findings"]
    )
    assert not report["findings"], f"{len(report['findings'])} findings:\n{problems}"
