"""The engine's documents as typed models: the job (jobs/{job_id}, the contract's), its items
(jobs/{job_id}/items/{item_id}) and its plan (jobs/{job_id}/engine/plan).

Every string a user or a provider can influence (labels, file names, messages) is cut to a
byte budget when a model is built, and the job's `errors` list is bounded in bytes as well as
in count, so that no job document can approach Firestore's 1 MiB limit.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Annotated, Any

import pydantic


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ItemStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES: frozenset[JobStatus] = frozenset({JobStatus.QUEUED, JobStatus.PROCESSING})
TERMINAL_STATUSES: frozenset[JobStatus] = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
SETTLED_ITEM_STATUSES: frozenset[ItemStatus] = frozenset({ItemStatus.DONE, ItemStatus.FAILED, ItemStatus.CANCELLED})

# Byte budgets of what reaches a job or item document (UTF-8 bytes).
MAX_LABEL_BYTES = 300  # an item's label: `current`, `errors[].item`
MAX_CODE_BYTES = 64
MAX_MESSAGE_BYTES = 1000  # an error message
MAX_ERRORS_ON_JOB = 50  # entries of the job's `errors`
MAX_ERRORS_BYTES = 64 * 1024  # all of the job's `errors` together
MAX_RESULT_BYTES = 256 * 1024  # a kind's `result` on the job (larger lists belong in Storage)
ELLIPSIS = "\u2026"


def clip(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` UTF-8 bytes (on a character boundary, marked with …)."""
    raw = text.encode("utf-8", "replace")
    if len(raw) <= max_bytes:
        return text
    room = max_bytes - len(ELLIPSIS.encode())
    return raw[: max(0, room)].decode("utf-8", "ignore") + ELLIPSIS


def _clipper(max_bytes: int) -> pydantic.AfterValidator:
    return pydantic.AfterValidator(lambda text: clip(text, max_bytes))


Label = Annotated[str, _clipper(MAX_LABEL_BYTES)]
Code = Annotated[str, _clipper(MAX_CODE_BYTES)]
Message = Annotated[str, _clipper(MAX_MESSAGE_BYTES)]


def json_bytes(value: Any) -> int:
    """About how many bytes `value` takes in a document (its JSON form)."""
    return len(json.dumps(value, default=str, ensure_ascii=False).encode())


MAX_KEPT_FIELD_BYTES = 2048  # a field of an oversized result that is still kept (a path, a count)


def compact_result(result: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a result too large for the job: its small fields (paths such as
    `archive_path`, counts, flags), marked `truncated` with the size it had."""
    kept = {key: value for key, value in result.items() if json_bytes(value) <= MAX_KEPT_FIELD_BYTES}
    return {**kept, "truncated": True, "bytes": json_bytes(result)}


JOB_RETENTION = dt.timedelta(days=30)  # `expire_at`: Firestore's TTL policy deletes the job after this


class Progress(pydantic.BaseModel):
    # Defaults by factory: the contract's Progress (which requires every field) then publishes none.
    total: int = pydantic.Field(default_factory=int, ge=0, description="Items planned (0 until planned).")
    done: int = pydantic.Field(default_factory=int, ge=0)
    failed: int = pydantic.Field(default_factory=int, ge=0)
    percent: int = pydantic.Field(default_factory=int, ge=0, le=100, description="Never goes down while the job runs.")


def _absent_when_none(value: Any) -> bool:
    return value is None


INCIDENT_DESCRIPTION = (
    "Present on unexpected failures only: names the log entry that holds the details (the "
    "message quotes it too). Quote it when reporting the problem."
)
MAX_INCIDENT_ID_LENGTH = 64


def _incident_id(value: str | None) -> str | None:
    """Checked by a validator, not a schema constraint: the contract publishes no length for it."""
    if value is not None and len(value) > MAX_INCIDENT_ID_LENGTH:
        raise ValueError(f"an incident id has at most {MAX_INCIDENT_ID_LENGTH} characters")
    return value


IncidentId = Annotated[
    str | None,
    pydantic.AfterValidator(_incident_id),
    pydantic.Field(default=None, exclude_if=_absent_when_none, description=INCIDENT_DESCRIPTION),
]  # names the log entry that holds an unexpected failure's details


class ErrorInfo(pydantic.BaseModel):
    code: Code = pydantic.Field(description="Stable code (see the error catalogue in CONTRACT.md).")
    message: Message = pydantic.Field(description="For people; may change. Never an exception's text.")
    incident_id: IncidentId = None

    @classmethod
    def incident(cls, code: str, message: str, incident_id: str) -> ErrorInfo:
        """An unexpected failure as clients see it: a code, a message for people that quotes the
        incident, and the incident id (the exception's text went to the log entry of that id)."""
        return cls(code=code, message=f"{message} (incident {incident_id})", incident_id=incident_id)


class ItemErrorInfo(pydantic.BaseModel):
    item: Label = pydantic.Field(description="The item's label.")
    code: Code
    message: Message
    incident_id: IncidentId = None


def bounded_errors(errors: list[ItemErrorInfo], max_bytes: int = MAX_ERRORS_BYTES) -> list[ItemErrorInfo]:
    """The first errors that fit the job's budget (count and bytes)."""
    kept: list[ItemErrorInfo] = []
    used = 0
    for error in errors[:MAX_ERRORS_ON_JOB]:
        used += json_bytes(error.model_dump())
        if used > max_bytes:
            break
        kept.append(error)
    return kept


class ItemDoc(pydantic.BaseModel):
    """A tolerant view of jobs/{job_id}/items/{item_id}."""

    model_config = pydantic.ConfigDict(extra="ignore")

    label: str = ""
    payload: dict[str, Any] = {}
    status: ItemStatus = ItemStatus.PENDING
    attempts: int = 0
    attempt_id: str | None = None
    lease_until: dt.datetime | None = None
    result: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    checkpoint: dict[str, Any] = {}


class PlanState(pydantic.BaseModel):
    """jobs/{job_id}/engine/plan: how far planning got, and who plans right now."""

    model_config = pydantic.ConfigDict(extra="ignore")

    total: int = 0
    shards: int | None = None  # counter shards, fixed before any item runs (None: planned before shards)
    shards_own_items: bool = False  # each shard knows how many items it counts (`owned`)
    items_written: bool = False
    enqueued_chunks: int = 0
    enqueued_all: bool = False
    inline_until: dt.datetime | None = None  # the start trigger is planning (it runs 60 s at most)
    planner: str | None = None  # the plan task that holds the lease
    lease_until: dt.datetime | None = None  # renewed while that plan task is at work
    item_ids: list[str] | None = None  # a small job's items, all of them (None: list them with a query)
    shard_owned: list[int] | None = None  # each counter shard's `owned`, by shard number (None: read the shard)

    @property
    def known_shards(self) -> int | None:
        """The shard count when the plan wrote every shard document (they are read by id)."""
        return self.shards if self.shards_own_items else None


class Job(pydantic.BaseModel):
    """A tolerant view of jobs/{job_id}: documents from old or other writers still load."""

    model_config = pydantic.ConfigDict(extra="ignore")

    id: str
    type: str = ""
    owner_uid: str = ""
    status: JobStatus = JobStatus.QUEUED
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


class JobSlots(pydantic.BaseModel):
    """job_slots/{uid}: the ids of the user's active jobs, and the ids reserved for a job not
    created yet (an upload storing its files) with when each reservation ends. Entries of
    other shapes (from old or other writers) are dropped when read."""

    model_config = pydantic.ConfigDict(extra="ignore")

    active: list[str] = []
    reserved: dict[str, dt.datetime] = {}

    @pydantic.field_validator("active", mode="before")
    @classmethod
    def _ids_only(cls, value: Any) -> list[str]:
        return [j for j in value if isinstance(j, str) and j] if isinstance(value, list) else []

    @pydantic.field_validator("reserved", mode="before")
    @classmethod
    def _times_only(cls, value: Any) -> dict[str, dt.datetime]:
        if not isinstance(value, dict):
            return {}
        return {j: until for j, until in value.items() if isinstance(j, str) and isinstance(until, dt.datetime)}


class DailyBudget(pydantic.BaseModel):
    """generation_budget/{uid}-{YYYY-MM-DD}: the paid generations a user was charged that UTC day."""

    model_config = pydantic.ConfigDict(extra="ignore")

    used: int = 0


def new_job_document(
    *, job_type: str, owner_uid: str, input: dict[str, Any], options: dict[str, Any]
) -> dict[str, Any]:
    """The fields of a freshly queued job, as start_job writes it."""
    return {
        "type": job_type,
        "owner_uid": owner_uid,
        "status": JobStatus.QUEUED.value,
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
