"""Unexpected failures inside callables reach clients as `internal` with an incident id only.

The exception's type, text and traceback go to the error log under the same `incident_id`,
so an operator finds the entry from what a user quotes, and a client never sees internals
(paths, SDK messages, data of others) in an error message. Expected failures (HttpsError,
with a message written for people) pass through untouched.
"""

from __future__ import annotations

import functools
import traceback
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from firebase_functions import https_fn, logger

T = TypeVar("T")
GUARD_MARK = "__mediajobs_guarded__"  # set on guarded handlers (kept by the SDK's functools.wraps)
Handler = Callable[[https_fn.CallableRequest[Any]], T]


def new_incident_id() -> str:
    return uuid.uuid4().hex[:16]


def internal_error(incident_id: str) -> https_fn.HttpsError:
    return https_fn.HttpsError(
        https_fn.FunctionsErrorCode.INTERNAL,
        f"Internal error (incident {incident_id}); try again, and quote the incident id if it persists.",
        details={"incident_id": incident_id},
    )


def guarded(handler: Handler[T]) -> Handler[T]:
    """Wraps a callable's handler: HttpsError passes, anything else becomes `internal`."""

    @functools.wraps(handler)
    def run(req: https_fn.CallableRequest[Any]) -> T:
        try:
            return handler(req)
        except https_fn.HttpsError:
            raise
        except Exception as error:  # noqa: BLE001 - every unexpected failure becomes an incident
            incident_id = new_incident_id()
            logger.error(
                f"callable {handler.__name__} failed: incident {incident_id}",
                incident_id=incident_id,
                function=handler.__name__,
                uid=req.auth.uid if req.auth else None,
                error=f"{type(error).__name__}: {error}",
                traceback=traceback.format_exc(),
            )
            raise internal_error(incident_id) from None

    setattr(run, GUARD_MARK, True)
    return run


def item_incident(job_id: str, item_id: str, error: BaseException) -> str:
    """For an item that raised unexpectedly: logs it under a new incident id and returns the
    message its `internal` error should carry instead of the exception's text."""
    incident_id = new_incident_id()
    logger.error(
        f"item {job_id}/{item_id} failed: incident {incident_id}",
        incident_id=incident_id,
        job_id=job_id,
        item_id=item_id,
        error=f"{type(error).__name__}: {error}",
        traceback="".join(traceback.format_exception(error)),
    )
    return f"Unexpected error (incident {incident_id}); report it with the job id."
