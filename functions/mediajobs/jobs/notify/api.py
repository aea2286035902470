"""The notification callables: `webhook_secret` (read and rotate the signing secret),
`register_device` (an FCM token for push) and `set_notification_settings` (defaults for jobs
that pass no `notify`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from firebase_functions import https_fn, logger
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs import store
from mediajobs.jobs.api import caller_of, parse
from mediajobs.jobs.notify import defaults, push
from mediajobs.jobs.notify.models import NotificationDefaults, RegisterDeviceRequest, WebhookSecretRequest
from mediajobs.jobs.notify.options import checked_webhook
from mediajobs.jobs.notify.webhooks import secret_of

DEVICE_RETENTION = dt.timedelta(days=270)  # FCM considers a token unused this long stale


def webhook_secret(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """The caller's webhook signing secret (created on first use; `rotate: true` replaces it)."""
    caller = caller_of(req)
    request = parse(WebhookSecretRequest, req.data if req.data is not None else {})
    secret = secret_of(caller.uid, rotate=request.rotate)
    if request.rotate:
        logger.info("webhook secret rotated", uid=caller.uid)
    return {"secret": secret}


def register_device(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """Stores the caller's FCM token as users/{uid}/devices/{token} (again: refreshed)."""
    caller = caller_of(req)
    request = parse(RegisterDeviceRequest, req.data)
    now = store.now()
    devices = push.devices_ref(caller.uid)
    devices.document(request.token).set(
        {
            "token": request.token,
            "platform": request.platform.value,
            "updated_at": now,
            "expire_at": now + DEVICE_RETENTION,
        }
    )
    newest_first = devices.order_by("updated_at", direction=gfs.Query.DESCENDING).select(["updated_at"]).stream()
    kept = 0
    for snapshot in newest_first:
        kept += 1
        if kept > push.MAX_DEVICES:
            snapshot.reference.delete()
    logger.info("device registered", uid=caller.uid, platform=request.platform.value)
    return {"token": request.token, "devices": min(kept, push.MAX_DEVICES)}


def set_notification_settings(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """Stores the caller's defaults; the webhook URL passes the same guard as a job's."""
    caller = caller_of(req)
    request = parse(NotificationDefaults, req.data)
    if request.webhook is not None:
        checked_webhook(request.webhook, "webhook")
    saved = request.model_dump(mode="json")
    cloud.db().document(defaults.settings_path(caller.uid)).set({**saved, "updated_at": store.now()})
    return saved
