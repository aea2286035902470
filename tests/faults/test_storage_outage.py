"""The Storage emulator killed in the middle of a media export and brought back seconds later.

Its process is SIGKILLed (connections refused, uploads cut) and restarted on the same port and
data folder. Tasks whose user hit the outage retry; the export ends completed or failed, never
stuck; a resume then finishes it, and every user's archive exists exactly once with every file
byte-identical to its source.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from mediajobs import cloud
from mediajobs.cli import client
from tests.integration.export_seed import seed_users
from tests.integration.jobs_helpers import items_of
from tests.integration.test_media_export import check_archive, start_export
from tools import devstack

OUTAGE_SECONDS = 5


@pytest.fixture
def admin(new_user: Callable[..., client.User]) -> client.User:
    return new_user(admin=True)


def zips_under(job_id: str) -> set[str]:
    return {b.name for b in cloud.bucket().list_blobs(prefix=f"exports/{job_id}/") if b.name.endswith(".zip")}


def test_storage_down_mid_export_then_resume_exports_every_file_exactly_once(admin: client.User) -> None:
    users = seed_users(200, seed=23)
    ids = [u.id for u in users]
    port = urlsplit(os.environ["STORAGE_EMULATOR_HOST"]).port
    assert port is not None
    outage_over = threading.Event()
    outage: dict[str, Any] = {}

    def storage_outage() -> None:
        try:
            command = devstack.kill_storage(port)
            outage["killed_at"] = dt.datetime.now(dt.UTC)
            time.sleep(OUTAGE_SECONDS)
            devstack.run_storage(command, dict(os.environ))  # our environment carries the run's marker
            outage["back_at"] = dt.datetime.now(dt.UTC)
        finally:
            outage_over.set()

    def kill_when_started(job: dict[str, Any]) -> None:
        if "thread" not in outage and (job.get("progress") or {}).get("done", 0) >= 3:
            outage["thread"] = threading.Thread(target=storage_outage)
            outage["thread"].start()

    started = time.monotonic()
    first = start_export(admin, user_ids=ids)
    try:
        stopped, _ = client.watch_job(first, kill_when_started, timeout=600)
    finally:
        assert outage_over.wait(60), "the Storage emulator was not brought back"
    assert "back_at" in outage, "the Storage emulator did not restart"
    assert stopped["finished_at"] > outage["back_at"], "the export ended before Storage came back"

    # Ended cleanly: completed (retries got through) or failed with its reasons, nothing in flight.
    assert stopped["status"] in ("completed", "failed"), stopped
    items = items_of(first)
    assert len(items) == len(users)
    assert {item["status"] for item in items.values()} <= {"done", "failed"}
    assert stopped["progress"]["done"] + stopped["progress"]["failed"] == len(users)
    retried = sorted(item_id for item_id, item in items.items() if item["attempts"] > 1)
    failed = {item_id: item["error"] for item_id, item in items.items() if item["status"] == "failed"}
    assert all(error["code"] == "unavailable" for error in failed.values()), failed
    exported_first = {a["user_id"] for a in stopped["result"]["archives"]}
    assert exported_first == {item_id for item_id, item in items.items() if item["status"] == "done"}
    # Users in flight during the outage waited it out in the Storage client's own retries (about
    # the outage's length) or had their task retried; either way some finished only after it.
    waited = sorted(item_id for item_id, item in items.items() if item.get("duration_ms", 0) >= OUTAGE_SECONDS * 800)
    assert waited or retried or failed, "no user was in flight during the outage"
    assert sum(item["finished_at"] > outage["back_at"] for item in items.values()) >= 1
    assert zips_under(first) == {a["path"] for a in stopped["result"]["archives"]}

    second = start_export(admin, user_ids=ids, resume_from=first)
    final, _ = client.watch_job(second, timeout=600)

    assert final["status"] == "completed", final
    assert final["progress"] == {"total": len(users), "done": len(users), "failed": 0, "percent": 100}
    archives = final["result"]["archives"]
    assert sorted(a["user_id"] for a in archives) == sorted(ids), "a user's archive is missing or listed twice"
    by_user = {a["user_id"]: a for a in archives}
    for user in users:
        archive = by_user[user.id]
        expected_job = first if user.id in exported_first else second
        assert archive["path"].startswith(f"exports/{expected_job}/"), archive
        assert archive["files"] == len(user.files)
        check_archive(archive["path"], user, expected_job)  # byte for byte, sha256 and manifest
    assert zips_under(second) == {by_user[u].get("path") for u in set(ids) - exported_first}
    assert final["result"]["total_files"] == sum(len(u.files) for u in users)
    assert final["result"]["total_bytes"] == sum(len(f.data) for u in users for f in u.files)
    index = json.loads(cloud.bucket().blob(final["result"]["index_path"]).download_as_bytes())
    assert sorted(a["user_id"] for a in index["archives"]) == sorted(ids)
    print(
        f"storage outage: {len(waited)} users waited it out, {len(retried)} retried, {len(failed)} failed in the "
        f"first export "
        f"({stopped['status']}), {len(exported_first)} reused by the resume; {time.monotonic() - started:.1f}s"
    )
