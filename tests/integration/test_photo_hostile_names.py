"""Photo batches of ZIPs made to break planning, on the real local stack: entries with 15 KB
names (photo_skipped once passed Firestore's 1 MiB and planning failed until the deadline)
and a directory of 100k entries (refused from the end records, the job failing at once)."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs.models import MAX_LABEL_BYTES, MAX_RESULT_BYTES, json_bytes
from tests import photo_fixtures as fx
from tests.integration.test_photos import check_results_zip, put, run_batch
from tests.unit.test_photo_zip_directory import write_folder_zip

HOSTILE_ENTRIES = 100  # 75 kB of clipped entries: more than photo_skipped lists
NAME_BYTES = 15_000


def names_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("coffee.jpg", fx.photo("coffee", size=(128, 128)))
        for index in range(HOSTILE_ENTRIES):
            archive.writestr(f"{index:03d}-" + "n" * NAME_BYTES + ".txt", b"not an image")
        archive.writestr("chelsea.jpg", fx.photo("chelsea", size=(128, 128)))
    return buffer.getvalue()


def test_entries_with_15_kb_names_are_skipped_within_budget_and_the_job_completes(user: client.User) -> None:
    path = put(user, "names.zip", names_zip())

    final = run_batch(user, [path], remove_bg=False, crop_face=True)

    assert final["status"] == "completed", final.get("error")
    result = final["result"]
    assert "truncated" not in result
    job_id = result["archive_path"].split("/")[1]
    assert result["archive_path"] == f"jobs/{job_id}/results.zip"
    assert result["succeeded"] == 2 and result["failed"] == 0
    assert len(result["outputs"]) == 2 and result["outputs_omitted"] == 0
    assert result["skipped_count"] == HOSTILE_ENTRIES
    assert 0 < result["skipped_omitted"] < HOSTILE_ENTRIES
    assert len(result["skipped"]) + result["skipped_omitted"] == HOSTILE_ENTRIES
    assert all(len(s["entry"].encode()) <= MAX_LABEL_BYTES for s in result["skipped"])
    assert json_bytes(result) < MAX_RESULT_BYTES // 2
    check_results_zip(final)

    doc = cloud.db().document(f"jobs/{job_id}/kind/photo_skipped").get().to_dict() or {}
    assert json_bytes(doc) < 64 * 1024  # once 3 MB here, over Firestore's 1 MiB
    assert doc["count"] == HOSTILE_ENTRIES and doc["omitted"] == result["skipped_omitted"]
    assert len(doc["skipped"]) + doc["omitted"] == HOSTILE_ENTRIES
    assert doc["expire_at"]


def test_a_zip_of_100k_entries_fails_the_job_at_once(user: client.User, tmp_path: Path) -> None:
    archive = write_folder_zip(tmp_path / "many.zip", 100_000, zip64=True)
    path = put(user, "many.zip", archive.read_bytes())
    started = time.monotonic()

    final = run_batch(user, [path], remove_bg=False, crop_face=True)

    assert final["status"] == "failed", final
    assert final["error"]["code"] == "too-many-entries", final["error"]
    assert "100,000 entries" in final["error"]["message"]
    assert time.monotonic() - started < 120  # not after ten plan attempts and a sweep
