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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

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

    try:
        yield lambda content: load("storage.rules", as_firestore_ruleset(content))
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
