"""Shapes shared by the documents of the contract (their JSON form: timestamps as RFC 3339)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import pydantic

from mediajobs.jobs import models as engine

Timestamp = dt.datetime
# The engine's enums (jobs/models.py), published inline as the strings documents hold.
JobStatus = Annotated[
    str,
    pydantic.AfterValidator(engine.JobStatus),
    pydantic.WithJsonSchema({"enum": [status.value for status in engine.JobStatus], "type": "string"}),
]
ItemStatus = Annotated[
    str,
    pydantic.AfterValidator(engine.ItemStatus),
    pydantic.WithJsonSchema({"enum": [status.value for status in engine.ItemStatus], "type": "string"}),
]
AssetKind = Literal["composition", "image", "video", "audio"]


class Shape(pydantic.BaseModel):
    """A document or part of one as clients read it: every field named here, no other."""

    model_config = pydantic.ConfigDict(extra="forbid")


class Progress(engine.Progress, Shape):
    model_config = pydantic.ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ErrorInfo(engine.ErrorInfo, Shape):
    model_config = pydantic.ConfigDict(extra="forbid")


class ItemErrorInfo(engine.ItemErrorInfo, Shape):
    model_config = pydantic.ConfigDict(extra="forbid")


class EmptyResult(Shape):
    """`{}`: the job ended without a result (cancelled while queued, failed before finishing,
    or a one-item job whose item failed)."""
