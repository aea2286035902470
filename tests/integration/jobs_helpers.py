"""Helpers for engine tests: start selftest jobs and read what the engine recorded."""

from __future__ import annotations

from typing import Any

from mediajobs import platform
from mediajobs.cli import client


def start_selftest(user: client.User, **input: Any) -> str:
    result = client.call("start_job", {"type": "selftest", "input": input}, user.id_token)
    job_id: str = result["job_id"]
    return job_id


def items_of(job_id: str) -> dict[str, dict[str, Any]]:
    docs = platform.db().collection("jobs").document(job_id).collection("items").stream()
    return {doc.id: doc.to_dict() or {} for doc in docs}


def runs_of(job_id: str) -> dict[str, int]:
    """How many times the selftest kind executed each item (it counts them itself)."""
    docs = platform.db().collection("jobs").document(job_id).collection("selftest_runs").stream()
    return {doc.id: int((doc.to_dict() or {}).get("count", 0)) for doc in docs}


def percents(snapshots: list[dict[str, Any]]) -> list[int]:
    return [int((s.get("progress") or {}).get("percent", 0)) for s in snapshots]
