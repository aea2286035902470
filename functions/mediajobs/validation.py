"""Turns Pydantic validation errors into one message a person can act on."""

from __future__ import annotations

from typing import Any

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


def unstorable_text(data: Any) -> str | None:
    """Where `data` holds text that is not valid Unicode (a lone surrogate, which JSON's "\\ud800"
    allows but UTF-8, Firestore and Storage do not), as a dotted location; None if nowhere."""
    pending: list[tuple[tuple[object, ...], Any]] = [((), data)]
    while pending:
        location, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                pending += [((*location, key), key), ((*location, key), item)]
        elif isinstance(value, list | tuple):
            pending += [((*location, index), item) for index, item in enumerate(value)]
        elif isinstance(value, str) and not _encodable(value):
            shown = (str(p).encode("utf-8", "backslashreplace").decode("utf-8") for p in location)
            return ".".join(shown) or "value"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class StrictModel(pydantic.BaseModel):
    """Base for every model of data that crosses a boundary: unknown keys are errors, and so
    is text that could not be stored."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    @pydantic.model_validator(mode="before")
    @classmethod
    def text_is_unicode(cls, data: Any) -> Any:
        if (location := unstorable_text(data)) is not None:
            raise ValueError(f"{location} holds text that is not valid Unicode (a lone surrogate); send UTF-8 text")
        return data
