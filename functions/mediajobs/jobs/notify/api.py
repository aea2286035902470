"""The `webhook_secret` callable: the owner reads (and rotates) their webhook signing secret."""

from __future__ import annotations

from typing import Any

from firebase_functions import https_fn, logger

from mediajobs.jobs.api import caller_of, parse
from mediajobs.jobs.notify.models import WebhookSecretRequest
from mediajobs.jobs.notify.webhooks import secret_of


def webhook_secret(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """The caller's webhook signing secret (created on first use; `rotate: true` replaces it)."""
    caller = caller_of(req)
    request = parse(WebhookSecretRequest, req.data if req.data is not None else {})
    secret = secret_of(caller.uid, rotate=request.rotate)
    if request.rotate:
        logger.info("webhook secret rotated", uid=caller.uid)
    return {"secret": secret}
