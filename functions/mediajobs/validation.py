"""Turns Pydantic validation errors into one message a person can act on."""

from __future__ import annotations

import pydantic


def describe(error: pydantic.ValidationError, prefix: str = "") -> str:
    parts = []
    for problem in error.errors()[:10]:
        location = ".".join(str(p) for p in (prefix, *problem["loc"]) if p != "")
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; unknown keys are rejected)"
        parts.append(f"{location or 'value'}: {message}")
    more = len(error.errors()) - 10
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


class StrictModel(pydantic.BaseModel):
    """Base for every model of data that crosses a boundary: unknown keys are errors."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
