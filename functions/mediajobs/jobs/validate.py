"""A job's input and options, validated by its kind's models (at start, plan and item time)."""

from __future__ import annotations

from typing import Any

import pydantic

from mediajobs.jobs.kinds import JobFailed, JobKind
from mediajobs.jobs.models import Job
from mediajobs.validation import describe


def validated(kind: JobKind, job: Job) -> tuple[Any, Any]:
    """The job's input and options as the kind's models; JobFailed with a clear message if bad:
    resource-exhausted when the only problem is too many entries in a list (the per-job caps
    on items: paths, user ids, ...), else invalid-argument."""
    try:
        input = kind.Input.model_validate(job.input)
    except pydantic.ValidationError as error:
        raise JobFailed(_code_of(error), describe(error, "input")) from None
    try:
        options = kind.Options.model_validate(job.options)
    except pydantic.ValidationError as error:
        raise JobFailed(_code_of(error), describe(error, "options")) from None
    return input, options


def _code_of(error: pydantic.ValidationError) -> str:
    return "resource-exhausted" if all(e["type"] == "too_long" for e in error.errors()) else "invalid-argument"
