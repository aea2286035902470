"""The check every job start makes of its `notify` option (start_job, the scene callables,
/upload); a job that passes none gets its owner's defaults (users/{uid}/settings/notifications)."""

from __future__ import annotations

from typing import Any

from firebase_functions import https_fn

from mediajobs.jobs.notify import guard
from mediajobs.jobs.notify.models import NotifySettings


def checked_webhook(url: str, field: str) -> None:
    """invalid-argument naming `field` when the URL is refused by the guard."""
    try:
        guard.check(url)
    except guard.RefusedUrl as refused:
        code = https_fn.FunctionsErrorCode.INVALID_ARGUMENT
        raise https_fn.HttpsError(code, f"{field}: the URL {refused}.") from None


def checked_notify(notify: NotifySettings | None, owner_uid: str | None = None) -> dict[str, Any] | None:
    """The `notify` field of a new job (given, or else the owner's defaults when `owner_uid` is
    given); invalid-argument when its webhook URL is refused."""
    field = "notify.webhook"
    if notify is None and owner_uid is not None:
        from mediajobs.jobs.notify.defaults import defaults_of

        stored = defaults_of(owner_uid)
        notify = stored.as_notify() if stored is not None else None
        field = "your default webhook (Settings)"
    if notify is None:
        return None
    if notify.webhook is not None:
        checked_webhook(notify.webhook, field)
    field_values = notify.model_dump(mode="json", exclude_none=True)
    return {k: v for k, v in field_values.items() if k not in ("push", "email") or v}  # only the channels asked for
