"""The download_url callable: URLs only for objects the caller may read."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from mediajobs import cloud
from mediajobs.cli import client
from tests.integration.jobs_helpers import start_selftest


def call_error(name: str, data: object, token: str | None) -> client.CallableError:
    with pytest.raises(client.CallableError) as raised:
        client.call(name, data, token)
    return raised.value


def test_download_urls_follow_ownership(new_user: Callable[..., client.User]) -> None:
    owner, stranger, admin = new_user(), new_user(), new_user(admin=True)
    job_id = start_selftest(owner, items=1)
    path = f"jobs/{job_id}/outputs/note.txt"
    cloud.bucket().blob(path).upload_from_string(b"hello", content_type="text/plain")

    assert call_error("download_url", {"paths": [path]}, None).status == "UNAUTHENTICATED"
    assert call_error("download_url", {"paths": [path]}, stranger.id_token).status == "NOT_FOUND"
    assert call_error("download_url", {"paths": ["exports/x/a.zip"]}, owner.id_token).status == "PERMISSION_DENIED"
    assert call_error("download_url", {"paths": [f"users/{stranger.uid}/a.png"]}, owner.id_token).status == (
        "PERMISSION_DENIED"
    )
    for bad in ("../etc/passwd", "jobs/../x", "/jobs/a/b", "jobs//b", "other/a"):
        status = call_error("download_url", {"paths": [bad]}, owner.id_token).status
        assert status in ("INVALID_ARGUMENT", "PERMISSION_DENIED"), (bad, status)
    missing = f"jobs/{job_id}/outputs/missing.txt"
    assert call_error("download_url", {"paths": [missing]}, owner.id_token).status == "NOT_FOUND"
    assert call_error("download_url", {"paths": [], "x": 1}, owner.id_token).status == "INVALID_ARGUMENT"

    for caller in (owner, admin):
        result = client.call("download_url", {"paths": [path]}, caller.id_token)
        reply = requests.get(result["urls"][path], timeout=30)
        assert reply.status_code == 200 and reply.content == b"hello"
        assert result["expires_in"] > 0


def test_project_assets_are_for_the_project_owner(new_user: Callable[..., client.User]) -> None:
    owner, stranger = new_user(), new_user()
    project_id = client.call("create_project", {"name": "p"}, owner.id_token)["project_id"]
    path = f"projects/{project_id}/scenes/s1/image/x.png"
    cloud.bucket().blob(path).upload_from_string(b"png", content_type="image/png")

    assert call_error("download_url", {"paths": [path]}, stranger.id_token).status == "NOT_FOUND"
    url = client.call("download_url", {"paths": [path]}, owner.id_token)["urls"][path]
    assert requests.get(url, timeout=30).content == b"png"
