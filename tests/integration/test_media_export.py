"""Media export on the real local stack: seeded users, ZIPs in Storage checked byte for byte."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.exports.archive import safe_email
from tests.integration.export_seed import SeededUser, add_file, save_user, seed_users
from tests.integration.jobs_helpers import assert_every_document_expires, items_of


@pytest.fixture
def admin(new_user: Callable[..., client.User]) -> client.User:
    return new_user(admin=True)


def start_export(admin: client.User, **input: Any) -> str:
    result = client.call("start_job", {"type": "media_export", "input": input}, admin.id_token)
    job_id: str = result["job_id"]
    return job_id


def open_archive(path: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(cloud.bucket().blob(path).download_as_bytes()))


def check_archive(path: str, user: SeededUser, job_id: str) -> dict[str, Any]:
    """Every seeded file is in the archive byte for byte, named safely and uniquely; returns the manifest."""
    archive = open_archive(path)
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["user_id"] == user.id and manifest["email"] == user.email and manifest["job_id"] == job_id
    by_id = {entry["id"]: entry for entry in manifest["files"]}
    assert set(by_id) == {f.id for f in user.files}
    names = archive.namelist()
    assert len(names) == len(set(names)) == len(user.files) + 1
    for seeded in user.files:
        entry = by_id[seeded.id]
        data = archive.read(entry["archive_name"])
        assert data == seeded.data
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() == seeded.sha256
        assert entry["size"] == len(seeded.data)
        assert entry["source_path"] == seeded.path
        assert entry["archive_name"].startswith(f"{seeded.kind}/")
        assert "/" not in entry["archive_name"][len(seeded.kind) + 1 :]
    assert {e["code"] for e in manifest["errors"]} == user.expected_errors
    return dict(manifest)


def test_export_of_50_users_with_bad_data_holds_every_file_exactly(admin: client.User) -> None:
    users = seed_users(44)
    prefix = users[0].id.split("-")[0]
    # The bad-data cases, one user each.
    no_email = SeededUser(id=f"{prefix}-no-email", email=None)
    add_file(no_email, "images", "a.jpg", b"jpeg-bytes")
    save_user(no_email)
    not_lists = SeededUser(id=f"{prefix}-not-lists", email=f"notlists+{prefix}@example.com")
    voice = add_file(not_lists, "voices", "hello.wav", b"RIFF....WAVE" * 100)
    not_lists.files.append(voice)
    not_lists.expected_errors = {"invalid-id-list"}
    save_user(not_lists, {"imageIds": "img-1,img-2"})
    dangling = SeededUser(id=f"{prefix}-dangling", email=f"dangling+{prefix}@example.com")
    kept = add_file(dangling, "images", "../../etc/passwd", b"not really a password file")
    missing_object = add_file(dangling, "images", "gone.jpg", b"x", upload=False)
    empty = add_file(dangling, "voices", "silence.wav", b"")
    dangling.files.append(kept)
    dangling.expected_errors = {"metadata-not-found", "object-missing", "empty-file", "duplicate-id"}
    save_user(
        dangling,
        {"imageIds": [kept.id, "no-such-image", missing_object.id, kept.id], "voiceIds": [empty.id]},
    )
    big = SeededUser(id=f"{prefix}-big", email=f"big+{prefix}@example.com")
    big.files.append(add_file(big, "voices", "long.wav", bytes(range(256)) * 40_000))  # 10 MB: streamed
    big.files.append(add_file(big, "images", "same.jpg", b"first"))
    big.files.append(add_file(big, "images", "same.jpg", b"second"))
    save_user(big)
    only_bad = SeededUser(id=f"{prefix}-only-bad", email=f"onlybad+{prefix}@example.com")
    save_user(only_bad, {"imageIds": ["no-such-1"], "voiceIds": ["no-such-2"]})
    nobody = f"{prefix}-nobody"  # in the request, not in email_users
    everyone = [*users, no_email, not_lists, dangling, big, only_bad]
    assert len(everyone) + 1 == 50

    job_id = start_export(admin, user_ids=[u.id for u in everyone] + [nobody])
    final, snapshots = client.watch_job(job_id, timeout=600)

    assert final["status"] == "completed", final
    result = final["result"]
    good = [*users, not_lists, dangling, big]
    assert result["successful_users"] == len(good) == 47
    assert result["failed_users"] == 3
    assert final["progress"] == {"total": 50, "done": 47, "failed": 3, "percent": 100}
    assert result["total_files"] == sum(len(u.files) for u in good)
    assert result["total_bytes"] == sum(len(f.data) for u in good for f in u.files)
    assert result["failed_files"] == 1 + 4
    assert result["processing_time_seconds"] > 0
    archives = {a["user_id"]: a for a in result["archives"]}
    assert set(archives) == {u.id for u in good}
    for user in good:
        archive = archives[user.id]
        assert user.email is not None
        assert archive["path"] == f"exports/{job_id}/{safe_email(user.email)}.zip"
        assert archive["files"] == len(user.files)
        check_archive(archive["path"], user, job_id)
    assert sorted(open_archive(archives[big.id]["path"]).namelist()) == [
        "images/same (2).jpg",
        "images/same.jpg",
        "manifest.json",
        "voices/long.wav",
    ]
    assert open_archive(archives[dangling.id]["path"]).namelist() == ["images/passwd", "manifest.json"]
    errors = {e["item"]: e for e in final["errors"]}
    assert errors[no_email.id]["code"] == "missing-email"
    assert errors[nobody]["code"] == "user-not-found"
    assert errors[only_bad.id]["code"] == "no-readable-files"
    assert_every_document_expires(job_id)
    items = items_of(job_id)
    assert {e["code"] for e in items[dangling.id]["result"]["file_errors"]} == dangling.expected_errors
    assert any(s.get("current") for s in snapshots), "the job never said which user it was on"
    index = json.loads(cloud.bucket().blob(result["index_path"]).download_as_bytes())
    assert {a["user_id"] for a in index["archives"]} == set(archives)


def test_export_is_admin_only(user: client.User) -> None:
    with pytest.raises(client.CallableError) as raised:
        client.call("start_job", {"type": "media_export", "input": {}}, user.id_token)
    assert raised.value.status == "PERMISSION_DENIED"
    assert "administrators" in raised.value.message


def test_cancel_half_way_then_resume_exports_every_user_exactly_once(admin: client.User) -> None:
    # ~40 users are exported per second here, and the job's progress reaches clients about
    # once a second: the cancel follows the first item document that settles instead, so
    # most of the 100 users are still to come when the workers see it.
    users = seed_users(100, seed=11)
    ids = [u.id for u in users]
    first = start_export(admin, user_ids=ids)
    cancelled = threading.Event()

    def cancel_early(items: list[Any], _changes: Any, _read_time: Any) -> None:
        if not cancelled.is_set() and any((i.to_dict() or {}).get("status") == "done" for i in items):
            cancelled.set()
            threading.Thread(target=client.call, args=("cancel_job", {"job_id": first}, admin.id_token)).start()

    watch = cloud.db().collection("jobs").document(first).collection("items").on_snapshot(cancel_early)
    try:
        stopped, _ = client.watch_job(first, timeout=300)
    finally:
        watch.unsubscribe()
    assert stopped["status"] == "cancelled"
    exported_first = {a["user_id"] for a in stopped["result"]["archives"]}
    assert 1 <= len(exported_first) < 100

    second = start_export(admin, user_ids=ids, resume_from=first)
    final, _ = client.watch_job(second, timeout=300)

    assert final["status"] == "completed"
    archives = {a["user_id"]: a for a in final["result"]["archives"]}
    assert set(archives) == set(ids)
    for user in users:
        expected_job = first if user.id in exported_first else second
        assert archives[user.id]["path"].startswith(f"exports/{expected_job}/")
        check_archive(archives[user.id]["path"], user, expected_job)
    written_again = {b.name for b in cloud.bucket().list_blobs(prefix=f"exports/{second}/") if b.name.endswith(".zip")}
    assert len(written_again) == 100 - len(exported_first)


def test_a_source_deleted_after_the_start_is_a_file_error_and_nothing_else_is_lost(admin: client.User) -> None:
    prefix = uuid.uuid4().hex[:8]
    user = SeededUser(id=f"{prefix}-victim", email=f"victim+{prefix}@example.com")
    keep = [add_file(user, "images", f"k{i}.jpg", f"keep {i}".encode() * 500) for i in range(3)]
    doomed = add_file(user, "voices", "doomed.wav", b"soon gone" * 500)
    user.files = [*keep, doomed]
    save_user(user)
    user.files = keep
    user.expected_errors = {"object-missing"}

    job_id = start_export(admin, user_ids=[user.id])
    cloud.bucket().blob(doomed.path).delete()
    final, _ = client.watch_job(job_id, timeout=120)

    assert final["status"] == "completed"
    assert final["result"]["total_files"] == 3 and final["result"]["failed_files"] == 1
    manifest = check_archive(final["result"]["archives"][0]["path"], user, job_id)
    assert manifest["errors"][0]["id"] == doomed.id


def test_bad_export_input_is_refused(admin: client.User) -> None:
    for data, fragment in [
        ({"user_ids": "everyone"}, "input.user_ids"),
        ({"user_ids": []}, "input.user_ids"),
        ({"user_ids": ["a/b"]}, "not document ids"),
        ({"resume_from": "../x"}, "input.resume_from"),
        ({"users": ["a"]}, "input.users: unknown field"),
    ]:
        with pytest.raises(client.CallableError) as raised:
            client.call("start_job", {"type": "media_export", "input": data}, admin.id_token)
        assert raised.value.status == "INVALID_ARGUMENT"
        assert fragment in raised.value.message


def test_operator_cli_starts_an_export_and_follows_it_to_the_end() -> None:
    import subprocess
    import sys

    users = seed_users(3, seed=5)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mediajobs.cli",
            "export",
            *[a for u in users for a in ("--user-id", u.id)],
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert run.returncode == 0, run.stderr[-2000:]
    job_id = run.stdout.split("media_export job ")[1].split()[0]
    job = cloud.db().collection("jobs").document(job_id).get().to_dict() or {}
    assert job["status"] == "completed" and job["owner_uid"] == "operator-cli"
    assert job["result"]["successful_users"] == 3
    assert "users: 3 exported, 0 failed" in run.stdout
    assert "100%" in run.stderr  # the progress bar reached the end


def test_users_sharing_an_email_get_an_archive_each(admin: client.User) -> None:
    """Old clients wrote some emails twice (case aside): both users are exported, neither
    archive overwrites the other, even when both are written at the same moment."""
    prefix = uuid.uuid4().hex[:8]
    twins = [
        SeededUser(id=f"{prefix}-twin{i}", email=f"{'Twin' if i % 2 else 'twin'}+{prefix}@example.com")
        for i in range(4)
    ]
    for index, twin in enumerate(twins):
        twin.files = [add_file(twin, "images", "same-name.jpg", f"{twin.id} {index}".encode() * 300)]
        save_user(twin)

    job_id = start_export(admin, user_ids=[t.id for t in twins])
    final, _ = client.watch_job(job_id, timeout=120)

    assert final["status"] == "completed" and final["result"]["successful_users"] == 4
    paths = {a["user_id"]: a["path"] for a in final["result"]["archives"]}
    assert len(set(paths.values())) == 4
    assert sum(p == f"exports/{job_id}/twin+{prefix}@example.com.zip" for p in paths.values()) == 1
    for twin in twins:
        check_archive(paths[twin.id], twin, job_id)


def test_metadata_of_every_old_client_style_is_exported_byte_exact(admin: client.User) -> None:
    """camelCase fields, gs:// URLs and Firebase download URLs (real and emulator hosts) all
    name objects of the default bucket; another bucket is a per-file error; a size that differs
    from the metadata is a manifest warning and the bytes are archived as read."""
    prefix = uuid.uuid4().hex[:8]
    user = SeededUser(id=f"{prefix}-styles", email=f"styles+{prefix}@example.com")
    for style in ("snake", "camel", "gs", "url", "emulator-url"):
        kind = "voices" if style == "gs" else "images"
        user.files.append(add_file(user, kind, f"{style} file.bin", f"{style} bytes ".encode() * 700, style=style))
    liar = add_file(user, "images", "liar.jpg", b"twelve bytes", style="camel", claimed_size=99)
    user.files.append(liar)
    foreign = add_file(user, "images", "elsewhere.jpg", b"not ours", style="camel")
    cloud.db().collection("images").document(foreign.id).update({"storagePath": "gs://someone-else/x.jpg"})
    save_user(user, {"imageIds": [f.id for f in user.files if f.kind == "images"] + [foreign.id]})
    user.expected_errors = {"foreign-bucket"}

    job_id = start_export(admin, user_ids=[user.id])
    final, _ = client.watch_job(job_id, timeout=120)

    assert final["status"] == "completed", final
    assert final["result"]["total_files"] == 6 and final["result"]["failed_files"] == 1
    manifest = check_archive(final["result"]["archives"][0]["path"], user, job_id)
    by_id = {entry["id"]: entry for entry in manifest["files"]}
    assert by_id[user.files[1].id]["archive_name"] == "images/camel file.bin"
    assert by_id[user.files[1].id]["content_type"] == "image/jpeg"
    assert [(w["id"], w["code"]) for w in manifest["warnings"]] == [(liar.id, "size-mismatch")]
    assert "99" in manifest["warnings"][0]["message"]
    item = items_of(job_id)[user.id]["result"]
    assert [w["code"] for w in item["warnings"]] == ["size-mismatch"]
    assert "someone-else" in manifest["errors"][0]["message"]
