"""Errors that mean "not now": the step is retried (a task retry, or a later attempt)."""

from __future__ import annotations

import requests
from google.api_core import exceptions as gexc

from mediajobs.jobs.kinds import TransientError

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    ConnectionError,
    TimeoutError,
    requests.ConnectionError,
    requests.Timeout,
    gexc.ServiceUnavailable,
    gexc.TooManyRequests,
    gexc.InternalServerError,
    gexc.DeadlineExceeded,
    gexc.Aborted,
)
