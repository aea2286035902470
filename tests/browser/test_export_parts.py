"""A split export on the dashboard's Export page in headless Chromium (tests/browser/export_parts.mjs):
an admin exports an ~80 MB user with 64 MB parts, the page lists one download per part with its
size and the date the lifecycle rule deletes the archive, and part 2 downloads byte for byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.cli.demo_split_export import seed_big_user
from tests.browser.test_dashboard import (  # noqa: F401 - pytestmark: the skip
    ARTIFACTS,
    ROOT,
    assert_looked_at,
    chromium_path,
    pytestmark,
)


def test_export_page_offers_each_part_and_says_when_it_is_deleted() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    admin = client.sign_up(f"parts-{uuid.uuid4().hex[:8]}@example.com", admin=True)
    user_id, _ = seed_big_user()
    node = shutil.which("node")
    assert node, "node is not on PATH"
    env = dict(os.environ, ARTIFACTS=str(ARTIFACTS), CHROMIUM_PATH=chromium_path(), ADMIN_EMAIL=admin.email,
               ADMIN_PASSWORD=admin.password, EXPORT_USER_ID=user_id)  # fmt: skip
    proc = subprocess.run(
        [node, str(Path(__file__).with_name("export_parts.mjs"))],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    report = json.loads(lines[-1])
    assert report["ok"], f"{report.get('error')}\n{report}\n{proc.stderr[-3000:]}"

    item = cloud.db().document(f"jobs/{report['job_id']}/items/{user_id}").get().to_dict() or {}
    parts = item["result"]["parts"]
    assert len(parts) == 2
    assert [b["path"] for b in report["buttons"]] == [p["path"] for p in parts]
    labels = [b["text"] for b in report["buttons"]]
    assert all(re.fullmatch(rf"Part {n} of 2 \(\d+\.\d MB\)", label) for n, label in enumerate(labels, 1)), labels
    shown = dt.datetime.fromisoformat(report["expires"]["datetime"].replace("Z", "+00:00"))
    assert abs(shown - dt.datetime.fromisoformat(item["result"]["expires_at"])) < dt.timedelta(seconds=1)
    assert str(shown.year) in report["expires"]["text"]
    downloaded = Path(report["download_path"]).read_bytes()
    assert hashlib.sha256(downloaded).hexdigest() == parts[1]["sha256"] and len(downloaded) == parts[1]["archive_bytes"]
    assert_looked_at(report, ("export-parts",))
