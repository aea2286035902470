"""Per-item progress on the real stack: an export user's item document shows how many of the
user's bytes are archived (`fraction` strictly between 0 and 1, `current`) while it runs."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mediajobs import cloud
from mediajobs.cli import client
from tests.integration.export_seed import SeededUser, add_file, save_user
from tests.integration.test_media_export import check_archive

FILES = 320
FILE_BYTES = 250_000  # 80 MB in all: archiving them takes seconds even on a warm, quiet stack (an item
# writes its progress from its second second on), so progress is written meanwhile


def big_export_user() -> SeededUser:
    """One user of 320 files, 80 MB in all: archiving them takes seconds."""
    prefix = uuid.uuid4().hex[:8]
    user = SeededUser(id=f"{prefix}-big", email=f"big+{prefix}@example.com")
    rng = random.Random(29)
    payloads = [rng.randbytes(FILE_BYTES) for _ in range(FILES)]
    with ThreadPoolExecutor(8) as pool:
        user.files = list(pool.map(lambda i: add_file(user, "images", f"photo-{i:03d}.jpg", payloads[i]), range(FILES)))
    save_user(user)
    return user


def _watch(path: str, stop: threading.Event, seen: list[dict[str, Any]]) -> None:
    """Reads the item document every 50 ms (a value written stays about a second)."""
    ref = cloud.db().document(path)
    while not stop.is_set():
        data = ref.get().to_dict()
        if data:
            seen.append({k: data.get(k) for k in ("status", "fraction", "current")})
            if data.get("status") in ("done", "failed"):
                return
        time.sleep(0.05)


def test_an_export_item_reports_its_bytes_while_it_runs(new_user: Callable[..., client.User]) -> None:
    admin = new_user(admin=True)
    user = big_export_user()
    started = client.call(
        "start_job",
        {"type": "media_export", "input": {"user_ids": [user.id]}, "options": {"concurrency": 1}},
        admin.id_token,
    )
    job_id = started["job_id"]
    seen: list[dict[str, Any]] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(f"jobs/{job_id}/items/{user.id}", stop, seen), daemon=True)
    watcher.start()
    job, _ = client.watch_job(job_id, timeout=240)
    stop.set()
    watcher.join(10)
    assert job["status"] == "completed", job
    partial = [s for s in seen if s["status"] == "running" and s["fraction"] is not None and 0 < s["fraction"] < 1]
    assert partial, f"no partial fraction seen while running: {seen[-5:]}"
    assert all("MB of 80.0 MB" in str(s["current"]) for s in partial), partial[:3]
    fractions = [s["fraction"] for s in partial]
    assert fractions == sorted(fractions), "an item's fraction never goes down"
    item = cloud.db().document(f"jobs/{job_id}/items/{user.id}").get().to_dict() or {}
    assert item["status"] == "done" and item["result"]["files"] == FILES
    check_archive(item["result"]["path"], user, job_id)
