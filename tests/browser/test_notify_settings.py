"""The Settings page and job deliveries in headless Chromium on the real local stack (run
through `./dev exec`): notify_settings.mjs saves notification defaults (a refused URL first),
starts a photo batch from the Photos page with no notify of its own, and finds the job's
deliveries on its card; the test's webhook receiver must have taken one verified delivery."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from mediajobs import cloud
from mediajobs.cli import client
from tests import photo_fixtures as fx
from tests.browser.test_dashboard import ARTIFACTS, ROOT, STACK_VARS, assert_looked_at, chromium_path
from tests.integration.test_webhooks import Receiver

pytestmark = pytest.mark.skipif(
    any(not os.environ.get(name) for name in STACK_VARS),
    reason=f"needs the local stack (./dev exec -- python -m pytest tests/browser); one of {STACK_VARS} is unset",
)


def run_page(photo: Path, user: client.User, webhook_url: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is not on PATH (Node.js 20+ is a prerequisite, see README)"
    env = dict(os.environ, ARTIFACTS=str(ARTIFACTS), PHOTO_FILE=str(photo), CHROMIUM_PATH=chromium_path(),
               USER_EMAIL=user.email, USER_PASSWORD=user.password, WEBHOOK_URL=webhook_url)  # fmt: skip
    proc = subprocess.run([node, str(Path(__file__).with_name("notify_settings.mjs"))], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    (ARTIFACTS / "notify_settings.log").write_text(proc.stderr)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, f"notify_settings.mjs exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    assert report["ok"], f"{report.get('error')}\nsteps: {report['steps']}\n{proc.stderr[-4000:]}"
    return report


def test_settings_save_defaults_and_a_dashboard_job_delivers_and_lists_it(tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "notify.png"
    photo.write_bytes(fx.photo("coffee", "PNG", size=(96, 96)))
    user = client.sign_up(f"browser-notify-{uuid.uuid4().hex[:8]}@example.com")
    receiver = Receiver(failures=1)
    try:
        report = run_page(photo, user, receiver.url)
        deadline = time.monotonic() + 30
        while not receiver.accepted() and time.monotonic() < deadline:
            time.sleep(0.5)
        accepted = receiver.accepted()
    finally:
        receiver.server.shutdown()
    print(f"notify settings: steps {report['steps']}, deliveries {report['deliveries']}")

    # The refused URL was explained, the saved defaults came back after a reload.
    assert "169.254" in report["refusal"] or "link-local" in report["refusal"], report["refusal"]
    assert report["reloaded"] == {"webhook": receiver.url, "push": False, "email": True}
    saved = cloud.db().document(f"users/{user.uid}/settings/notifications").get().to_dict() or {}
    assert (saved["webhook"], saved["push"], saved["email"]) == (receiver.url, False, True)

    # The job started from the page took the defaults and delivered once, verified.
    job_id = report["job_id"]
    assert report["status"] == "completed"
    job = cloud.db().document(f"jobs/{job_id}").get().to_dict() or {}
    assert job["notify"] == {"webhook": receiver.url, "events": ["completed", "failed", "cancelled"], "email": True}
    [(headers, body)] = accepted
    delivered = Webhook(report["secret"]).verify(body, headers)
    assert delivered["id"] == job_id and delivered["event"] == "completed" and delivered["type"] == "photo_batch"
    assert receiver.attempts(f"{job_id}-completed") == [500, 200]

    # Its card listed every attempt, as recorded.
    shown = [(d["channel"], d["event"], d["status_code"]) for d in report["deliveries"]]
    assert ("webhook", "completed", "500") in shown and ("webhook", "completed", "200") in shown, shown
    assert ("email", "completed", "") in shown, shown  # the address is not verified: skipped, and said so
    email_row = next(d for d in report["deliveries"] if d["channel"] == "email")
    assert "not verified" in email_row["text"]
    assert_looked_at(report, ("settings", "jobs-deliveries"))
