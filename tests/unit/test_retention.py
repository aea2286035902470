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


# Prefixes this system writes and owns: job outputs (and the temp parts composed into them),
# uploads staged by /upload for a job, export archives. users/ is the user's (and an older app's:
# the legacy export reads users/{id}/images and voices), projects/ lives as long as its project.
OWNED_PREFIXES = ("jobs/", "uploads/", "exports/")
NEVER_DELETED = ("users/", "projects/")


def test_storage_lifecycle_deletes_only_what_this_system_owns() -> None:
    rules = json.loads((ROOT / "storage.lifecycle.json").read_text())["rule"]
    deletes = [rule["condition"] for rule in rules if rule["action"]["type"] == "Delete"]
    assert all(condition.get("matchesPrefix") for condition in deletes), "a Delete rule without a prefix"
    deleted = {prefix: condition["age"] for condition in deletes for prefix in condition["matchesPrefix"]}
    assert set(deleted) == set(OWNED_PREFIXES)
    assert all(0 < age <= 90 for age in deleted.values())
    for kept in NEVER_DELETED:
        assert not any(kept.startswith(prefix) or prefix.startswith(kept) for prefix in deleted), kept
    readme = (ROOT / "README.md").read_text()
    retention = readme[readme.index("### Retention") :]
    assert "--lifecycle-file=storage.lifecycle.json" in retention
    for prefix in (*OWNED_PREFIXES, *NEVER_DELETED):
        assert f"`{prefix}`" in retention, f"the README's Retention section does not say what happens to {prefix}"


def test_uploads_are_staged_under_the_owned_prefix() -> None:
    from mediajobs.photos.upload import _Batch

    assert _Batch("u1", "job-1", max_bytes=1).folder == "uploads/u1/job-1"
