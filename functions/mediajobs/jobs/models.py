"""The job document of the contract (jobs/{job_id}) and its items, as typed models."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import pydantic

JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]
ItemStatus = Literal["pending", "running", "done", "failed", "cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
SETTLED_ITEM_STATUSES: frozenset[str] = frozenset({"done", "failed", "cancelled"})
MAX_ERRORS_ON_JOB = 50
JOB_RETENTION = dt.timedelta(days=30)  # `expire_at`: Firestore's TTL policy deletes the job after this


class Progress(pydantic.BaseModel):
    total: int = 0
    done: int = 0
    failed: int = 0
    percent: int = 0


class ErrorInfo(pydantic.BaseModel):
    code: str
    message: str


class ItemErrorInfo(pydantic.BaseModel):
    item: str
    code: str
    message: str


class Job(pydantic.BaseModel):
    """A tolerant view of jobs/{job_id}: documents from old or other writers still load."""

    model_config = pydantic.ConfigDict(extra="ignore")

    id: str
    type: str = ""
    owner_uid: str = ""
    status: str = "queued"
    progress: Progress = Progress()
    current: str | None = None
    input: dict[str, Any] = {}
    options: dict[str, Any] = {}
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    errors: list[ItemErrorInfo] = []
    cancel_requested: bool = False
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    heartbeat_at: dt.datetime | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_document(cls, job_id: str, data: dict[str, Any] | None) -> Job:
        data = dict(data or {})
        for key in ("input", "options"):
            if not isinstance(data.get(key), dict):
                data[key] = {} if data.get(key) is None else data[key]
        return cls.model_validate({**data, "id": job_id})


def new_job_document(
    *, job_type: str, owner_uid: str, input: dict[str, Any], options: dict[str, Any]
) -> dict[str, Any]:
    """The fields of a freshly queued job, as start_job writes it."""
    return {
        "type": job_type,
        "owner_uid": owner_uid,
        "status": "queued",
        "progress": Progress().model_dump(),
        "current": None,
        "input": input,
        "options": options,
        "result": None,
        "error": None,
        "errors": [],
        "cancel_requested": False,
        "started_at": None,
        "finished_at": None,
        "heartbeat_at": None,
        "expire_at": dt.datetime.now(dt.UTC) + JOB_RETENTION,
    }


def percent_of(settled: int, total: int) -> int:
    if total <= 0:
        return 0
    return min(100, (settled * 100) // total)
