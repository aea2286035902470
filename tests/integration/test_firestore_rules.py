"""firestore.rules, evaluated by the Firestore emulator's rules engine through its REST API
with Auth-emulator ID tokens: owner, another user, an admin and nobody."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import requests

from mediajobs import cloud
from mediajobs.cli import client

Case = tuple[str, str, str, dict[str, Any] | None, bool]


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    owner = verified(client.sign_up(f"owner-{tag}@example.com"))
    other = verified(client.sign_up(f"other-{tag}@example.com"))
    admin = client.sign_up(f"admin-{tag}@example.com", admin=True)
    # Signs up with the address of a legacy user who has no account yet (never verified).
    impostor = client.sign_up(f"legacy-{tag}@example.com")
    db = cloud.db()
    ids = {"job": f"job-{tag}", "project": f"prj-{tag}", "scene": f"scn-{tag}", "image": f"img-{tag}",
           "legacy": f"legacy-{tag}"}  # fmt: skip
    db.document(f"jobs/{ids['job']}").set({"type": "selftest", "owner_uid": owner.uid, "status": "completed"})
    db.document(f"jobs/{ids['job']}/items/item-1").set({"status": "done"})
    db.document(f"jobs/{ids['job']}/counters/0").set({"done": 1})
    project = {"name": "Mine", "description": "", "user_id": owner.uid, "stats": {"total_scenes": 1},
               "storyboard": {"title": "t", "creative_brief": {"tone": "calm"}}}  # fmt: skip
    db.document(f"projects/{ids['project']}").set(project)
    db.document(f"projects/{ids['project']}/scenes/{ids['scene']}").set(
        {"title": "One", "description": "", "duration_seconds": 3, "scene_number": 1, "assets": {}, "active_job": None}
    )
    db.document(f"projects/{ids['project']}/moods/m1").set({"name": "Calm"})
    db.document(f"projects/{ids['project']}/scenes/{ids['scene']}/takes/t1").set(
        {"kind": "image", "path": f"projects/{ids['project']}/scenes/{ids['scene']}/image/j1.png", "params": {}}
    )
    db.document(f"email_users/{owner.uid}").set({"email": owner.email, "imageIds": [ids["image"]]})
    db.document(f"images/{ids['image']}").set({"email": owner.email, "storage_path": "x"})
    db.document(f"voices/{ids['image']}").set({"email": owner.email, "storage_path": "y"})
    db.document(f"images/{ids['legacy']}").set({"email": impostor.email, "storage_path": "z"})
    db.document(f"voices/{ids['legacy']}").set({"email": impostor.email, "storage_path": "z"})
    db.document(f"email_users/legacy-{tag}").set({"email": impostor.email, "imageIds": [ids["legacy"]]})
    video = {"owner_uid": owner.uid, "job_id": f"vid-{tag}", "title": "Clip", "status": "ready"}
    db.document(f"videos/vid-{tag}").set({**video, "public": False})
    db.document(f"videos/pub-{tag}").set({**video, "public": True})
    db.document(f"auto_uploads/au-{tag}").set({"owner_uid": owner.uid, "status": "started", "job_id": "j"})
    db.document("replicate_predictions/p1").set({"status": "succeeded"})
    db.document(f"elsewhere/{tag}").set({"x": 1})
    users = {"owner": owner, "other": other, "admin": admin, "impostor": impostor, "nobody": None}
    return {"users": users, "ids": ids, "tag": tag}


def verified(user: client.User) -> client.User:
    """The user after verifying their email, with a fresh ID token that says so."""
    from firebase_admin import auth

    auth.update_user(user.uid, email_verified=True, app=cloud.app())
    return client.sign_in(user.email, user.password)


def rest(world: dict[str, Any], who: str, method: str, path: str, fields: dict[str, Any] | None) -> int:
    ids = world["ids"]
    path = path.format(**ids, owner=world["users"]["owner"].uid, tag=world["tag"])
    base = (
        f"http://{os.environ['FIRESTORE_EMULATOR_HOST']}/v1/projects/{os.environ['GCLOUD_PROJECT']}"
        "/databases/(default)/documents"
    )
    user = world["users"][who]
    headers = {"Authorization": f"Bearer {user.id_token}"} if user else {}
    body = {"fields": {k: to_value(v) for k, v in (fields or {}).items()}}
    if method == "get":
        response = requests.get(f"{base}/{path}", headers=headers, timeout=30)
    elif method == "update":
        mask = "&".join(f"updateMask.fieldPaths={k}" for k in fields or {})
        response = requests.patch(f"{base}/{path}?{mask}&currentDocument.exists=true", json=body, headers=headers,
                                  timeout=30)  # fmt: skip
    elif method == "create":
        collection, doc_id = path.rsplit("/", 1)
        response = requests.post(f"{base}/{collection}?documentId={doc_id}", json=body, headers=headers, timeout=30)
    else:
        response = requests.delete(f"{base}/{path}", headers=headers, timeout=30)
    assert response.status_code in (200, 403), (response.status_code, response.text[:300])
    return response.status_code


def to_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"integerValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, dict):
        return {"mapValue": {"fields": {k: to_value(v) for k, v in value.items()}}}
    if isinstance(value, list):
        return {"arrayValue": {"values": [to_value(v) for v in value]}}
    return {"nullValue": None}


JOB, ITEM, PROJECT = "jobs/{job}", "jobs/{job}/items/item-1", "projects/{project}"
SCENE, MOOD = "projects/{project}/scenes/{scene}", "projects/{project}/moods/m1"
TAKE = "projects/{project}/scenes/{scene}/takes/t1"
LONG = "x" * 201
MOOD_OBJECT = {"id": "m1", "name": "Calm", "color_palette": ["#112233"], "image": "https://example.com/m.png"}
CASES: list[Case] = [
    # jobs and items: owner and admin read; nobody writes
    ("owner", "get", JOB, None, True),
    ("other", "get", JOB, None, False),
    ("nobody", "get", JOB, None, False),
    ("admin", "get", JOB, None, True),
    ("owner", "get", ITEM, None, True),
    ("other", "get", ITEM, None, False),
    ("admin", "get", ITEM, None, True),
    ("owner", "get", "jobs/{job}/counters/0", None, False),
    ("owner", "update", JOB, {"status": "completed", "progress": {"percent": 100}}, False),
    ("owner", "update", JOB, {"cancel_requested": True}, False),
    ("admin", "update", JOB, {"status": "failed"}, False),
    ("owner", "create", "jobs/new-{tag}", {"type": "selftest", "owner_uid": "x", "status": "queued"}, False),
    ("owner", "delete", JOB, None, False),
    ("owner", "update", ITEM, {"status": "failed"}, False),
    # projects: owner reads and edits creative fields only
    ("owner", "get", PROJECT, None, True),
    ("other", "get", PROJECT, None, False),
    ("nobody", "get", PROJECT, None, False),
    ("owner", "update", PROJECT, {"name": "Renamed"}, True),
    ("owner", "update", PROJECT, {"description": "A longer pitch"}, True),
    ("owner", "update", PROJECT, {"storyboard": {"title": "New", "creative_brief": {"tone": "bold"}}}, True),
    ("owner", "update", PROJECT, {"storyboard": {"title": "New", "creative_brief": {"colour": "red"}}}, False),
    ("owner", "update", PROJECT, {"storyboard": {"id": "sb-1", "selected_mood": MOOD_OBJECT}}, True),
    ("owner", "update", PROJECT, {"storyboard": {"selected_mood": {"id": "m1", "colour": "red"}}}, False),
    ("owner", "update", PROJECT, {"name": LONG}, False),
    ("owner", "update", PROJECT, {"name": 42}, False),
    ("owner", "update", PROJECT, {"name": ""}, False),
    ("owner", "update", PROJECT, {"stats": {"total_scenes": 99}}, False),
    ("owner", "update", PROJECT, {"user_id": "someone-else"}, False),
    ("other", "update", PROJECT, {"name": "Mine now"}, False),
    ("nobody", "update", PROJECT, {"name": "Mine now"}, False),
    ("owner", "create", "projects/new-{tag}", {"name": "x", "user_id": "{owner}"}, False),
    ("owner", "delete", PROJECT, None, False),
    # scenes and moods
    ("owner", "get", SCENE, None, True),
    ("other", "get", SCENE, None, False),
    ("owner", "update", SCENE, {"title": "Opening"}, True),
    ("owner", "update", SCENE, {"duration_seconds": 7.5}, True),
    ("owner", "update", SCENE, {"duration_seconds": 500}, False),
    ("owner", "update", SCENE, {"assets": {"image_path": "http://expiring.example/x.png"}}, False),
    ("owner", "update", SCENE, {"active_job": {"status": "completed"}}, False),
    ("other", "update", SCENE, {"title": "Mine"}, False),
    ("owner", "create", "projects/{project}/scenes/new-{tag}", {"title": "x"}, False),
    ("owner", "delete", SCENE, None, False),  # through delete_scene, which cancels its jobs and files
    ("other", "delete", SCENE, None, False),
    ("owner", "get", MOOD, None, True),
    ("other", "get", MOOD, None, False),
    ("owner", "update", MOOD, {"name": "Loud"}, False),
    # takes: the project's owner reads them; only the functions write them (select_take switches)
    ("owner", "get", TAKE, None, True),
    ("other", "get", TAKE, None, False),
    ("nobody", "get", TAKE, None, False),
    ("owner", "update", TAKE, {"path": "projects/{project}/scenes/{scene}/image/other.png"}, False),
    ("owner", "create", "projects/{project}/scenes/{scene}/takes/new-{tag}", {"kind": "image", "path": "x"}, False),
    ("owner", "delete", TAKE, None, False),
    ("owner", "update", SCENE, {"selected_takes": {"image": "t1"}}, False),
    # the export sources: their owner and admins read, nobody writes
    ("owner", "get", "email_users/{owner}", None, True),
    ("other", "get", "email_users/{owner}", None, False),
    ("admin", "get", "email_users/{owner}", None, True),
    ("nobody", "get", "email_users/{owner}", None, False),
    ("owner", "update", "email_users/{owner}", {"imageIds": "x"}, False),
    ("owner", "get", "images/{image}", None, True),
    ("other", "get", "images/{image}", None, False),
    ("admin", "get", "images/{image}", None, True),
    ("owner", "get", "voices/{image}", None, True),
    ("other", "get", "voices/{image}", None, False),
    # an email grants nothing until it is verified: anyone can sign up with any address
    ("impostor", "get", "images/{legacy}", None, False),
    ("impostor", "get", "voices/{legacy}", None, False),
    ("impostor", "get", "email_users/{legacy}", None, False),
    ("impostor", "get", "images/{image}", None, False),
    # library videos: the owner and admins read; anyone reads a public one; nobody writes
    ("owner", "get", "videos/vid-{tag}", None, True),
    ("admin", "get", "videos/vid-{tag}", None, True),
    ("other", "get", "videos/vid-{tag}", None, False),
    ("nobody", "get", "videos/vid-{tag}", None, False),
    ("other", "get", "videos/pub-{tag}", None, True),
    ("nobody", "get", "videos/pub-{tag}", None, True),
    ("owner", "update", "videos/vid-{tag}", {"public": True}, False),
    ("owner", "update", "videos/vid-{tag}", {"title": "Renamed"}, False),
    ("other", "update", "videos/pub-{tag}", {"title": "Mine"}, False),
    ("owner", "create", "videos/new-{tag}", {"owner_uid": "{owner}", "public": True}, False),
    ("owner", "delete", "videos/vid-{tag}", None, False),
    # auto-upload records: the owner and admins read; nobody writes
    ("owner", "get", "auto_uploads/au-{tag}", None, True),
    ("admin", "get", "auto_uploads/au-{tag}", None, True),
    ("other", "get", "auto_uploads/au-{tag}", None, False),
    ("nobody", "get", "auto_uploads/au-{tag}", None, False),
    ("owner", "update", "auto_uploads/au-{tag}", {"status": "completed"}, False),
    ("owner", "create", "auto_uploads/new-{tag}", {"owner_uid": "{owner}"}, False),
    # everything else is closed
    ("admin", "get", "replicate_predictions/p1", None, False),
    ("owner", "get", "elsewhere/{tag}", None, False),
    ("nobody", "create", "elsewhere/new-{tag}", {"x": 1}, False),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_rules_matrix(world: dict[str, Any], case: Case) -> None:
    who, method, path, fields, allowed = case
    status = rest(world, who, method, path, fields)
    assert (status == 200) is allowed, f"{who} {method} {path}: {status}"


def test_the_matrix_is_big_enough() -> None:
    assert len(CASES) >= 40
