"""Split exports on the real local stack: a ~300 MiB user cut into 128 MiB parts, each a
complete ZIP; their union is the user's files byte for byte; `download` joins them into the
original layout; a resume keeps intact parts and writes only the missing one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.common import peak_rss_mib, worker_pids
from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.exports.archive import safe_email
from tests.integration.export_seed import SeededFile, SeededUser, add_file, save_user
from tests.integration.jobs_helpers import assert_every_document_expires, items_of

MiB = 1024 * 1024


@pytest.fixture
def admin(new_user: Callable[..., client.User]) -> client.User:
    return new_user(admin=True)


def seed_big_user() -> SeededUser:
    """Ten 30 MiB images (random bytes: an export never decodes them) and two small voices."""
    rng = random.Random(27)
    prefix = uuid.uuid4().hex[:8]
    user = SeededUser(id=f"{prefix}-big", email=f"Big.User+{prefix}@Example.com")
    for index in range(10):
        user.files.append(add_file(user, "images", f"photo-{index % 4}.jpg", rng.randbytes(30 * MiB)))
    user.files.append(add_file(user, "voices", "memo.wav", rng.randbytes(100_000)))
    user.files.append(add_file(user, "voices", "memo.wav", b"hello " * 1000))
    save_user(user)
    return user


def export(admin: client.User, user: SeededUser, **input: Any) -> dict[str, Any]:
    started = client.call(
        "start_job",
        {
            "type": "media_export",
            "input": {"user_ids": [user.id], **input},
            "options": {"archive_max_bytes": 128 * MiB},
        },
        admin.id_token,
    )
    final, _ = client.watch_job(started["job_id"], timeout=400)
    assert final["status"] == "completed", final.get("error") or final.get("errors")
    final["id"] = started["job_id"]
    return final


def check_parts(parts: list[dict[str, Any]], user: SeededUser, tmp_path: Path) -> dict[str, str]:
    """Each part is a complete ZIP under the limit with its own manifest, its size and sha256
    as listed; returns archive name -> sha256 of every file in all parts (no name twice)."""
    union: dict[str, str] = {}
    by_id = {f.id: f for f in user.files}
    for number, part in enumerate(parts, 1):
        assert part["number"] == number
        local = tmp_path / f"part-{number}.zip"
        cloud.bucket().blob(part["path"]).download_to_filename(str(local))
        assert local.stat().st_size == part["archive_bytes"] <= 128 * MiB
        assert hashlib.sha256(local.read_bytes()).hexdigest() == part["sha256"]
        with zipfile.ZipFile(local) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            assert (manifest["part"], manifest["parts"], manifest["user_id"]) == (number, len(parts), user.id)
            assert len(manifest["files"]) == part["files"]
            for entry in manifest["files"]:
                digest = hashlib.sha256(archive.read(entry["archive_name"])).hexdigest()
                assert digest == entry["sha256"] == by_id[entry["id"]].sha256
                assert entry["archive_name"] not in union
                union[entry["archive_name"]] = digest
        local.unlink()
    return union


def expected_layout(files: list[SeededFile]) -> dict[str, str]:
    """kind/name -> sha256 as the original systems laid them out (a repeated name gets " (2)")."""
    layout: dict[str, str] = {}
    for seeded in files:
        stem, dot, ext = seeded.filename.rpartition(".")
        key, counter = f"{seeded.kind}/{seeded.filename}", 2
        while key in layout:
            key, counter = f"{seeded.kind}/{stem} ({counter}){dot}{ext}", counter + 1
        layout[key] = seeded.sha256
    return layout


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def test_a_300_mib_user_is_split_into_three_parts_joined_again_and_resumed_part_by_part(
    admin: client.User, tmp_path: Path
) -> None:
    user = seed_big_user()
    try:
        # The operator's command: export with 128 MiB parts, then join them into
        # DIR/{safe_email}/images|voices/ (the seed's layout).
        dest = tmp_path / "download"
        run = subprocess.run(
            [sys.executable, "-m", "mediajobs.cli", "export", "--user-id", user.id, "--archive-max-mb", "128",
             "--download", str(dest), "--timeout", "400"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        job_id = run.stdout.split("media_export job ")[1].split()[0]
        # Streamed, never held whole: the worker stays within the bench's target for exports.
        peaks = [peak_rss_mib(pid) for pid in worker_pids("exportitems")]
        assert peaks and max(peaks) <= 200, peaks
        first = cloud.db().document(f"jobs/{job_id}").get().to_dict() or {}
        first["id"] = job_id
        item = items_of(job_id)[user.id]["result"]
        parts = item["parts"]

        assert len(parts) == 3
        assert [p["path"] for p in parts] == [
            f"exports/{job_id}/{safe_email(user.email or '')}-{n:03d}.zip" for n in (1, 2, 3)
        ]
        assert item["path"] == parts[0]["path"] and item["archive_crc32c"] is None
        assert item["files"] == len(user.files) and item["bytes"] == sum(len(f.data) for f in user.files)
        union = check_parts(parts, user, tmp_path)
        assert sorted(union.values()) == sorted(f.sha256 for f in user.files)
        in_a_month = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
        for part in parts:
            expires = dt.datetime.fromisoformat(part["expires_at"])
            assert abs((expires - in_a_month).total_seconds()) < 900
        listed = first["result"]["archives"][0]
        assert [p["path"] for p in listed["parts"]] == [p["path"] for p in parts]
        assert listed["expires_at"] == min(p["expires_at"] for p in parts)
        assert_every_document_expires(job_id)

        assert "1 archives" in run.stdout and f"{len(user.files)} files written" in run.stdout
        assert "download" in run.stderr  # the progress bar
        user_dir = dest / safe_email(user.email or "")
        assert [p.name for p in dest.iterdir()] == [user_dir.name]
        on_disk = {
            str(p.relative_to(user_dir)): sha256_file(p)
            for p in user_dir.rglob("*")
            if p.is_file() and p.name != "manifest.json"
        }
        assert on_disk == expected_layout(user.files)
        joined = json.loads((user_dir / "manifest.json").read_text())
        assert len(joined["files"]) == len(user.files) and joined["parts"] == 3

        # The middle part is lost: a resumed export keeps parts 1 and 3 and writes part 2 alone.
        cloud.bucket().blob(parts[1]["path"]).delete()
        second = export(admin, user, resume_from=first["id"])
        resumed = items_of(second["id"])[user.id]["result"]["parts"]
        assert [p["path"] for p in resumed] == [
            parts[0]["path"],
            f"exports/{second['id']}/{safe_email(user.email or '')}-002.zip",
            parts[2]["path"],
        ]
        assert [b.name for b in cloud.bucket().list_blobs(prefix=f"exports/{second['id']}/")] == [
            resumed[1]["path"],
            f"exports/{second['id']}/index.json",
        ]
        assert check_parts(resumed, user, tmp_path) == union
    finally:
        for prefix in (f"uploads/{user.id}/", "exports/"):
            for blob in cloud.bucket().list_blobs(prefix=prefix):
                if blob.name.startswith(f"uploads/{user.id}/") or (blob.metadata or {}).get("user_id") == user.id:
                    blob.delete()
