"""`my_data` on the real local stack: a user's own export holds their uploads, every job's
outputs, their projects (scenes, moods, assets) and library videos with a JSON index, and not
one byte of anyone else's; only its owner may read it."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from mediajobs import cloud
from mediajobs.cli import client
from tests import photo_fixtures as fx
from tests.integration.jobs_helpers import assert_every_document_expires, items_of
from tests.integration.test_video import make_video


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def finished(job: dict[str, Any]) -> dict[str, Any]:
    final, _ = client.watch_job(job["job_id"], timeout=600)
    assert final["status"] == "completed", final.get("error") or final.get("errors")
    return dict(final)


def give_data(user: client.User, photo: str, scene_title: str, *, video: bool) -> dict[str, str]:
    """An upload, a photo job, a project with a generated scene asset (and a video job):
    returns the ids of what was made."""
    secret = f"users/{user.uid}/notes/secret.bin"
    cloud.bucket().blob(secret).upload_from_string(random.randbytes(200_000))
    image = f"users/{user.uid}/in/{photo}.jpg"
    cloud.bucket().blob(image).upload_from_string(fx.photo(photo), content_type="image/jpeg")
    made = {"secret": secret}
    made["photo_job"] = client.call(
        "start_job",
        {"type": "photo_batch", "input": {"paths": [image]}, "options": {"remove_bg": False, "size": 512}},
        user.id_token,
    )["job_id"]
    project = client.call("create_project", {"name": f"Project {scene_title}"}, user.id_token)["project_id"]
    scene = client.call("add_scene", {"project_id": project, "title": scene_title, "duration_seconds": 4},
                        user.id_token)["scene_id"]  # fmt: skip
    made |= {"project": project, "scene": scene}
    made["scene_job"] = client.call(
        "generate_scene_asset", {"project_id": project, "scene_id": scene, "kind": "composition"}, user.id_token
    )["job_id"]
    if video:
        clip = f"users/{user.uid}/videos/clip.mp4"
        cloud.bucket().blob(clip).upload_from_string(make_video(1, size="320x240"), content_type="video/mp4")
        options = {"renditions": [144], "hls": False, "dash": False, "thumbnails": 1}
        options |= {"mobile": False, "previews": False}
        made["video_job"] = client.call(
            "start_job", {"type": "video_process", "input": {"path": clip}, "options": options}, user.id_token
        )["job_id"]
    for key in ("photo_job", "scene_job", "video_job"):
        if key in made:
            finished({"job_id": made[key]})
    return made


def objects_under(prefixes: list[str]) -> dict[str, bytes]:
    return {b.name: b.download_as_bytes() for p in prefixes for b in cloud.bucket().list_blobs(prefix=p) if b.size}


def can_read_job(user: client.User, job_id: str) -> int:
    base = (
        f"http://{os.environ['FIRESTORE_EMULATOR_HOST']}/v1/projects/{os.environ['GCLOUD_PROJECT']}"
        "/databases/(default)/documents"
    )
    response = requests.get(f"{base}/jobs/{job_id}", headers={"Authorization": f"Bearer {user.id_token}"}, timeout=30)
    return response.status_code


def test_my_data_holds_all_of_a_users_data_and_no_byte_of_anyone_elses(
    new_user: Callable[..., client.User], tmp_path: Path
) -> None:
    owner, other = new_user(), new_user()
    mine = give_data(owner, "astronaut", "Sunrise over the bay", video=True)
    theirs = give_data(other, "coffee", "A cup at midnight", video=False)
    # A folder whose name starts with the owner's uid is someone else's.
    lookalike = f"users/{owner.uid}x/decoy.bin"
    cloud.bucket().blob(lookalike).upload_from_string(random.randbytes(50_000))

    started = client.call("start_job", {"type": "my_data"}, owner.id_token)
    final = finished(started)
    job_id = started["job_id"]
    result = final["result"]

    expected = objects_under([
        f"users/{owner.uid}/",
        *(f"jobs/{mine[k]}/" for k in ("photo_job", "scene_job", "video_job")),
        f"videos/{mine['video_job']}/",
        f"projects/{mine['project']}/",
    ])  # fmt: skip
    assert any(p.startswith(f"jobs/{mine['photo_job']}/outputs/") for p in expected)
    assert any(p.startswith(f"videos/{mine['video_job']}/") for p in expected)
    assert any(p.startswith(f"projects/{mine['project']}/scenes/") for p in expected)
    foreign = objects_under([
        f"users/{other.uid}/",
        *(f"jobs/{theirs[k]}/" for k in ("photo_job", "scene_job")),
        f"projects/{theirs['project']}/",
        lookalike,
    ])  # fmt: skip
    assert len(foreign) >= 5

    assert len(result["parts"]) == 1 and result["path"] == f"jobs/{job_id}/my-data.zip"
    part = result["parts"][0]
    data = cloud.bucket().blob(part["path"]).download_as_bytes()
    assert sha(data) == part["sha256"] and len(data) == part["archive_bytes"]
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    archived = {f["source_path"]: archive.read(f["archive_name"]) for f in manifest["files"]}
    assert archived == expected  # every object of theirs, byte for byte, and nothing else
    assert result["files"] == len(expected) and not result["file_errors"]

    contents = [archive.read(name) for name in archive.namelist()]
    foreign_hashes = {sha(b) for b in foreign.values()}
    assert not foreign_hashes & {sha(c) for c in contents}
    for blob in foreign.values():  # not even a piece of another user's file
        probe = blob[len(blob) // 2 : len(blob) // 2 + 64]
        assert not any(probe in c for c in contents)
    assert other.uid not in archive.read("my_data.json").decode()

    index = json.loads(archive.read("my_data.json"))
    assert index["uid"] == owner.uid
    assert {j["id"] for j in index["jobs"]} == {mine["photo_job"], mine["scene_job"], mine["video_job"]}
    assert [p["id"] for p in index["projects"]] == [mine["project"]]
    assert [s["id"] for s in index["projects"][0]["scenes"]] == [mine["scene"]]
    assert index["projects"][0]["scenes"][0]["assets"]["composition_path"] in expected
    assert [v["id"] for v in index["videos"]] == [mine["video_job"]]
    assert {o["path"] for o in index["objects"]} == set(expected)
    assert result["counts"] == {"objects": len(expected), "jobs": 3, "projects": 1, "scenes": 1, "moods": 0,
                                "videos": 1}  # fmt: skip
    assert cloud.bucket().blob(result["index_path"]).download_as_bytes() == archive.read("my_data.json")
    assert items_of(job_id)["my-data"]["result"]["parts"][0]["sha256"] == part["sha256"]
    assert_every_document_expires(job_id)

    # The operator's download unpacks it at the objects' own paths, with the index beside them.
    run = subprocess.run([sys.executable, "-m", "mediajobs.cli", "download", job_id, str(tmp_path)],
                         capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    on_disk = {
        str(p.relative_to(tmp_path)): p.read_bytes()
        for p in tmp_path.rglob("*")
        if p.is_file() and p.name not in ("manifest.json", "my_data.json")
    }
    assert on_disk == expected
    assert (tmp_path / "my_data.json").read_bytes() == archive.read("my_data.json")

    # Only the owner may read the export (rules and download_url, both ways).
    urls = client.call("download_url", {"paths": [part["path"]]}, owner.id_token)["urls"]
    assert requests.get(urls[part["path"]], timeout=30).content == data
    with pytest.raises(client.CallableError) as refused:
        client.call("download_url", {"paths": [part["path"]]}, other.id_token)
    assert refused.value.status == "NOT_FOUND"
    assert (can_read_job(owner, job_id), can_read_job(other, job_id)) == (200, 403)


def test_my_data_takes_no_input_and_bounded_options(user: client.User) -> None:
    for request, field in (
        ({"type": "my_data", "input": {"uid": "someone-else"}}, "input.uid"),
        ({"type": "my_data", "options": {"archive_max_bytes": 1024}}, "options.archive_max_bytes"),
    ):
        with pytest.raises(client.CallableError) as error:
            client.call("start_job", request, user.id_token)
        assert error.value.status == "INVALID_ARGUMENT" and field in error.value.message, error.value.message


def test_an_admins_data_leaves_out_the_exports_they_made_of_other_people(
    new_user: Callable[..., client.User],
) -> None:
    from tests.integration.export_seed import seed_users

    admin = new_user(admin=True)
    someone = seed_users(1, seed=3)[0]
    export = client.call("start_job", {"type": "media_export", "input": {"user_ids": [someone.id]}}, admin.id_token)
    finished(export)
    cloud.bucket().blob(f"users/{admin.uid}/mine.txt").upload_from_string(b"the admin's own note")

    final = finished(client.call("start_job", {"type": "my_data"}, admin.id_token))

    archive = zipfile.ZipFile(io.BytesIO(cloud.bucket().blob(final["result"]["path"]).download_as_bytes()))
    assert archive.read(f"users/{admin.uid}/mine.txt") == b"the admin's own note"
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert someone.id.encode() not in everything and export["job_id"].encode() not in everything
    assert str(someone.email).encode() not in everything
    assert final["result"]["counts"]["jobs"] == 0
