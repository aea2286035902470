"""Shapes shared by the documents of the contract (their JSON form: timestamps as RFC 3339)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pydantic

Timestamp = dt.datetime
JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]
ItemStatus = Literal["pending", "running", "done", "failed", "cancelled"]
AssetKind = Literal["composition", "image", "video", "audio"]


class Shape(pydantic.BaseModel):
    """A document or part of one as clients read it: every field named here, no other."""

    model_config = pydantic.ConfigDict(extra="forbid")


class Progress(Shape):
    total: int = pydantic.Field(ge=0, description="Items planned (0 until planned).")
    done: int = pydantic.Field(ge=0)
    failed: int = pydantic.Field(ge=0)
    percent: int = pydantic.Field(ge=0, le=100, description="Never goes down while the job runs.")


INCIDENT_DESCRIPTION = (
    "Present on unexpected failures only: names the log entry that holds the details (the "
    "message quotes it too). Quote it when reporting the problem."
)


class ErrorInfo(Shape):
    code: str = pydantic.Field(description="Stable code (see the error catalogue in CONTRACT.md).")
    message: str = pydantic.Field(description="For people; may change. Never an exception's text.")
    incident_id: str | None = pydantic.Field(default=None, description=INCIDENT_DESCRIPTION)


class ItemErrorInfo(Shape):
    item: str = pydantic.Field(description="The item's label.")
    code: str
    message: str
    incident_id: str | None = pydantic.Field(default=None, description=INCIDENT_DESCRIPTION)


class EmptyResult(Shape):
    """`{}`: the job ended without a result (cancelled while queued, failed before finishing,
    or a one-item job whose item failed)."""
