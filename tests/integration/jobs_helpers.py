"""Helpers for engine tests: start selftest jobs and read what the engine recorded."""

from __future__ import annotations

from typing import Any

from mediajobs import cloud
from mediajobs.cli import client


def start_selftest(user: client.User, **input: Any) -> str:
    result = client.call("start_job", {"type": "selftest", "input": input}, user.id_token)
    job_id: str = result["job_id"]
    return job_id


def items_of(job_id: str) -> dict[str, dict[str, Any]]:
    docs = cloud.db().collection("jobs").document(job_id).collection("items").stream()
    return {doc.id: doc.to_dict() or {} for doc in docs}


def runs_of(job_id: str) -> dict[str, int]:
    """How many times the selftest kind executed each item (it counts them itself)."""
    docs = cloud.db().collection("jobs").document(job_id).collection("selftest_runs").stream()
    return {doc.id: int((doc.to_dict() or {}).get("count", 0)) for doc in docs}


def percents(snapshots: list[dict[str, Any]]) -> list[int]:
    return [int((s.get("progress") or {}).get("percent", 0)) for s in snapshots]


def documents_under(job_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every document a job left: the job's own and all of its subcollections', recursively."""
    found: list[tuple[str, dict[str, Any]]] = []
    pending = [cloud.db().collection("jobs").document(job_id)]
    while pending:
        ref = pending.pop()
        snapshot = ref.get()
        if snapshot.exists:
            found.append((ref.path, snapshot.to_dict() or {}))
        for collection in ref.collections():
            pending.extend(collection.list_documents())
    return found


def assert_every_document_expires(job_id: str) -> None:
    """Each document under a finished job carries `expire_at` (Firestore's TTL does not follow
    subcollections), in a collection group that has a TTL policy (firestore.indexes.json)."""
    import json
    from pathlib import Path

    indexes = json.loads((Path(__file__).resolve().parents[2] / "firestore.indexes.json").read_text())
    ttl_groups = {
        o["collectionGroup"] for o in indexes["fieldOverrides"] if o.get("ttl") and o["fieldPath"] == "expire_at"
    }
    documents = documents_under(job_id)
    assert documents, f"jobs/{job_id} left nothing"
    without = [path for path, data in documents if "expire_at" not in data]
    assert without == [], f"documents without expire_at: {without}"
    groups = {path.split("/")[-2] for path, _ in documents}
    assert groups <= ttl_groups, f"collection groups without a TTL policy: {groups - ttl_groups}"
