"""The check every job start makes of its `notify` option (start_job, the scene callables, /upload)."""

from __future__ import annotations

from typing import Any

from firebase_functions import https_fn

from mediajobs.jobs.notify import guard
from mediajobs.jobs.notify.models import NotifySettings


def checked_notify(notify: NotifySettings | None) -> dict[str, Any] | None:
    """The `notify` field of a new job; invalid-argument when its webhook URL is refused."""
    if notify is None:
        return None
    if notify.webhook is not None:
        try:
            guard.check(notify.webhook)
        except guard.RefusedUrl as refused:
            raise https_fn.HttpsError(
                https_fn.FunctionsErrorCode.INVALID_ARGUMENT, f"notify.webhook: the URL {refused}."
            ) from None
    return notify.model_dump(mode="json", exclude_none=True)
