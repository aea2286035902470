"""The dashboard's "Your data" page in headless Chromium (tests/browser/mydata.mjs): a user
starts a my_data export, sees what it holds and until when it is kept, and downloads it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
import subprocess
import uuid
import zipfile
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


def test_your_data_page_exports_and_downloads_a_users_own_data() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    user = client.sign_up(f"mydata-{uuid.uuid4().hex[:8]}@example.com")
    note = random.randbytes(30_000)
    cloud.bucket().blob(f"users/{user.uid}/notes/note.bin").upload_from_string(note)
    client.call("create_project", {"name": "Summer campaign"}, user.id_token)
    node = shutil.which("node")
    assert node, "node is not on PATH"
    env = dict(os.environ, ARTIFACTS=str(ARTIFACTS), CHROMIUM_PATH=chromium_path(), USER_EMAIL=user.email,
               USER_PASSWORD=user.password)  # fmt: skip
    proc = subprocess.run(
        [node, str(Path(__file__).with_name("mydata.mjs"))],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    report = json.loads(lines[-1])
    assert report["ok"], f"{report.get('error')}\n{report}\n{proc.stderr[-3000:]}"

    assert "No data export yet" in report["first_run"]
    job = cloud.db().document(f"jobs/{report['job_id']}").get().to_dict() or {}
    assert (job["type"], job["owner_uid"], job["status"]) == ("my_data", user.uid, "completed")
    result = job["result"]
    assert [b["path"] for b in report["buttons"]] == [result["path"]]
    assert report["buttons"][0]["text"].startswith("Download ZIP (")
    assert "1 project with 0 scenes" in report["summary"] and f"{result['files']} file" in report["summary"]
    shown = dt.datetime.fromisoformat(report["expires"].replace("Z", "+00:00"))
    assert abs(shown - dt.datetime.fromisoformat(result["expires_at"])) < dt.timedelta(seconds=1)
    downloaded = Path(report["download_path"])
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == result["parts"][0]["sha256"]
    with zipfile.ZipFile(downloaded) as archive:
        assert archive.read(f"users/{user.uid}/notes/note.bin") == note
        index = json.loads(archive.read("my_data.json"))
    assert [p["name"] for p in index["projects"]] == ["Summer campaign"]
    assert_looked_at(report, ("your-data",))
