"""storage.rules compiled by the rules compiler that ships here (the Firestore emulator's).

The Storage emulator that would evaluate storage.rules cannot be downloaded here (see
README.md, Setup details), but both services share one rules language and compiler. Mapped onto a
Firestore ruleset (service name, root match, `firestore.get` -> `get`), storage.rules must
compile without a single issue: syntax errors and unused functions show (a misspelt call
does too, as its function goes unused; names are otherwise resolved only when evaluated).
What the rules allow is checked on `firebase deploy`, and `download_url` applies the same
read rules in code (tests/integration/test_downloads.py).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mediajobs.cli import client

ROOT = Path(__file__).resolve().parents[2]


def as_firestore_ruleset(storage_rules: str) -> str:
    text = storage_rules.replace("service firebase.storage", "service cloud.firestore")
    text = re.sub(r"match /b/\{bucket\}/o", "match /databases/{database}/documents", text)
    return text.replace("firestore.get(", "get(")


@pytest.fixture
def compile_rules() -> Iterator[Any]:
    url = (
        f"http://{os.environ['FIRESTORE_EMULATOR_HOST']}/emulator/v1/projects/"
        f"{os.environ['GCLOUD_PROJECT']}:securityRules"
    )

    def load(name: str, content: str) -> requests.Response:
        return requests.put(url, json={"rules": {"files": [{"name": name, "content": content}]}}, timeout=30)

    class Compiler:
        def __call__(self, content: str) -> requests.Response:
            return load("storage.rules", as_firestore_ruleset(content))

        def evaluable(self, content: str) -> requests.Response:
            return load("storage.rules", as_evaluable_ruleset(content))

    try:
        yield Compiler()
    finally:  # the other tests need firestore.rules back
        assert load("firestore.rules", (ROOT / "firestore.rules").read_text()).status_code == 200


def test_storage_rules_compile_without_any_issue(compile_rules: Any) -> None:
    reply = compile_rules((ROOT / "storage.rules").read_text())

    assert reply.status_code == 200, reply.text
    assert not reply.json().get("issues"), reply.json()


def test_the_compile_check_catches_mistakes(compile_rules: Any) -> None:
    rules = (ROOT / "storage.rules").read_text()
    assert "allow read: if isAdmin();" in rules and "if ownsJob(jobId) ||" in rules

    broken = compile_rules(rules.replace("allow read: if isAdmin();", "allow read: if isAdmin(;"))
    assert broken.status_code == 400 and "Error compiling rules" in broken.text

    misspelled = compile_rules(rules.replace("if ownsJob(jobId) ||", "if ownJob(jobId) ||"))
    issues = [i["description"] for i in misspelled.json().get("issues", [])]
    assert "Unused function: ownsJob." in issues, misspelled.text


def as_evaluable_ruleset(storage_rules: str) -> str:
    """The Storage ruleset mapped so that the Firestore emulator also evaluates it: an object's
    metadata (contentType, size) becomes the fields of a document written at the object's path."""
    text = as_firestore_ruleset(storage_rules)
    return text.replace("request.resource.contentType", "request.resource.data.contentType").replace(
        "request.resource.size", "request.resource.data.size"
    )


def upload_allowed(user: client.User, path: str, content_type: str, size: int) -> bool:
    base = (
        f"http://{os.environ['FIRESTORE_EMULATOR_HOST']}/v1/projects/{os.environ['GCLOUD_PROJECT']}"
        "/databases/(default)/documents"
    )
    collection, doc_id = path.rsplit("/", 1)
    fields = {"contentType": {"stringValue": content_type}, "size": {"integerValue": str(size)}}
    response = requests.post(
        f"{base}/{collection}?documentId={doc_id}",
        json={"fields": fields},
        headers={"Authorization": f"Bearer {user.id_token}"},
        timeout=30,
    )
    assert response.status_code in (200, 403), response.text[:300]
    return response.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "size", "allowed"),
    [
        ("image/png", 1000, True),
        ("image/jpeg", 1000, True),
        ("application/zip", 1000, True),
        ("video/mp4", 500 * 1024 * 1024, True),
        ("image/png", 300 * 1024 * 1024, False),
        ("image/svg+xml", 1000, False),
        ("image/SVG+XML", 1000, False),
        ("text/html", 1000, False),
        ("image/x-html-script", 1000, False),
        ("application/javascript", 1000, False),
        ("application/xhtml+xml", 1000, False),
    ],
)
def test_uploads_of_script_capable_types_are_refused(
    compile_rules: Any, user: client.User, content_type: str, size: int, allowed: bool
) -> None:
    reply = compile_rules.evaluable((ROOT / "storage.rules").read_text())
    assert reply.status_code == 200, reply.text
    tag = uuid.uuid4().hex[:8]

    assert upload_allowed(user, f"users/{user.uid}/uploads/{tag}", content_type, size) is allowed
    assert not upload_allowed(user, f"users/someone-else/uploads/{tag}", "image/png", 1000)


@pytest.mark.parametrize(
    "case",
    [
        ("auto/web-512/shots", "image/png", 1000, True),
        ("auto/white-jpg/shots", "image/jpeg", 24 * 1024 * 1024, True),
        ("auto/cutout/shots", "image/webp", 1000, True),
        ("auto/web-512/shots", "image/png", 26 * 1024 * 1024, False),  # over the 25 MB cap
        ("auto/web-512/shots", "video/mp4", 1000, False),  # images only
        ("auto/web-512/shots", "application/zip", 1000, False),
        ("auto/web-512/shots", "image/gif", 1000, False),
        ("auto/web-512/shots", "image/svg+xml", 1000, False),
        ("auto-out/web-512/shots", "image/png", 1000, False),  # the functions' outputs
    ],
)
def test_auto_uploads_take_own_images_under_the_cap_only(
    compile_rules: Any, user: client.User, case: tuple[str, str, int, bool]
) -> None:
    folder, content_type, size, allowed = case
    reply = compile_rules.evaluable((ROOT / "storage.rules").read_text())
    assert reply.status_code == 200, reply.text
    tag = uuid.uuid4().hex[:8]

    assert upload_allowed(user, f"users/{user.uid}/{folder}/{tag}", content_type, size) is allowed
    assert not upload_allowed(user, f"users/someone-else/{folder}/{tag}", "image/png", 1000)
