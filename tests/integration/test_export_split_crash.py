"""A worker killed in the middle of a split user: the retry keeps the parts already written
(recorded in the item's checkpoint) and writes only the rest; no file is lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from mediajobs import cloud
from mediajobs.cli import client
from tests.integration.export_seed import SeededUser, add_file, save_user
from tests.integration.jobs_helpers import items_of
from tests.integration.test_export_split import MiB, check_parts
from tools.devstack import MARKER_VAR, marked_pids, pids_with_env


@pytest.fixture
def admin(new_user: Callable[..., client.User]) -> client.User:
    return new_user(admin=True)


def export_workers() -> list[int]:
    """This stack's worker processes serving `exportitems` (never another run's)."""
    ours = set(marked_pids(os.environ[MARKER_VAR]))
    return [pid for pid in pids_with_env("FUNCTION_TARGET", "exportitems") if pid in ours]


def test_a_worker_killed_mid_user_keeps_its_finished_parts(admin: client.User, tmp_path: Path) -> None:
    if not os.environ.get(MARKER_VAR):
        pytest.skip("needs ./dev exec (its run marker finds this stack's workers)")
    rng = random.Random(29)
    user = SeededUser(id=f"{uuid.uuid4().hex[:8]}-crash", email=f"crash+{uuid.uuid4().hex[:6]}@example.com")
    for index in range(6):  # 180 MiB: three parts of two files at 64 MiB
        user.files.append(add_file(user, "images", f"scan-{index}.jpg", rng.randbytes(30 * MiB)))
    save_user(user)
    try:
        job_id = client.call(
            "start_job",
            {"type": "media_export", "input": {"user_ids": [user.id]}, "options": {"archive_max_bytes": 64 * MiB}},
            admin.id_token,
        )["job_id"]
        item_ref = cloud.db().document(f"jobs/{job_id}/items/{user.id}")
        deadline = time.monotonic() + 240
        while not ((item_ref.get().to_dict() or {}).get("checkpoint") or {}).get("parts"):
            assert time.monotonic() < deadline, "no part was checkpointed"
            time.sleep(0.2)
        first = ((item_ref.get().to_dict() or {})["checkpoint"]["parts"])[0]
        generation = cloud.bucket().get_blob(first["path"]).generation
        workers = export_workers()
        assert workers, "no exportitems worker of this stack found"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)

        final, _ = client.watch_job(job_id, timeout=480)

        assert final["status"] == "completed", final.get("errors")
        item = items_of(job_id)[user.id]
        assert item["attempts"] == 2 and item["status"] == "done"
        parts = item["result"]["parts"]
        assert len(parts) == 3 and parts[0]["path"] == first["path"] and parts[0]["sha256"] == first["sha256"]
        assert cloud.bucket().get_blob(first["path"]).generation == generation  # kept, not written again
        union = check_parts(parts, user, tmp_path)
        assert sorted(union.values()) == sorted(f.sha256 for f in user.files)
        objects = sorted(b.name for b in cloud.bucket().list_blobs(prefix=f"exports/{job_id}/"))
        assert objects == sorted([*(p["path"] for p in parts), f"exports/{job_id}/index.json"])
    finally:
        for blob in cloud.bucket().list_blobs(prefix=f"uploads/{user.id}/"):
            blob.delete()
        for blob in cloud.bucket().list_blobs(prefix="exports/"):
            if (blob.metadata or {}).get("user_id") == user.id:
                blob.delete()
