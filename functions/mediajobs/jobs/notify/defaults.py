"""The owner's notification defaults, users/{uid}/settings/notifications, applied to jobs that
pass no `notify` (set_notification_settings writes them; the owner reads them)."""

from __future__ import annotations

import pydantic

from mediajobs import cloud
from mediajobs.jobs.notify.models import NotificationDefaults


def settings_path(uid: str) -> str:
    return f"users/{uid}/settings/notifications"


def defaults_of(uid: str) -> NotificationDefaults | None:
    """The stored defaults, or None (none stored, or not readable as defaults)."""
    snapshot = cloud.db().document(settings_path(uid)).get()
    data = snapshot.to_dict() if snapshot.exists else None
    if not data:
        return None
    data.pop("updated_at", None)
    try:
        return NotificationDefaults.model_validate(data)
    except pydantic.ValidationError:
        return None
