"""What is kept how long: expire_at on jobs, TTL policies declared for Firestore, and the
Storage lifecycle rules for outputs and uploads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from mediajobs.jobs.models import JOB_RETENTION, new_job_document

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_job_expires_after_the_retention() -> None:
    before = dt.datetime.now(dt.UTC)
    document = new_job_document(job_type="selftest", owner_uid="u1", input={}, options={})
    assert before + JOB_RETENTION <= document["expire_at"] <= dt.datetime.now(dt.UTC) + JOB_RETENTION


def test_ttl_policies_are_declared_for_every_collection_that_carries_expire_at() -> None:
    overrides = json.loads((ROOT / "firestore.indexes.json").read_text())["fieldOverrides"]
    ttl = {o["collectionGroup"] for o in overrides if o["fieldPath"] == "expire_at" and o.get("ttl") is True}
    assert ttl >= {"jobs", "items", "counters", "engine", "replicate_predictions", "generation_budget"}
    assert all(o["indexes"] == [] for o in overrides if o["fieldPath"] == "expire_at")  # no index hotspot


def test_storage_lifecycle_deletes_outputs_and_uploads_but_never_project_assets() -> None:
    rules = json.loads((ROOT / "storage.lifecycle.json").read_text())["rule"]
    deleted = {
        prefix: rule["condition"]["age"]
        for rule in rules
        if rule["action"]["type"] == "Delete"
        for prefix in rule["condition"].get("matchesPrefix", [])
    }
    assert {"jobs/", "users/"} <= deleted.keys()
    assert all(0 < age <= 90 for age in deleted.values())
    assert not any("projects/".startswith(prefix) or prefix.startswith("projects/") for prefix in deleted)
    readme = (ROOT / "README.md").read_text()
    assert "### Retention" in readme and "--lifecycle-file=storage.lifecycle.json" in readme
