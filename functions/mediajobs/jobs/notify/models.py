"""The `notify` option of a job, the events it can ask for, the owner's devices and defaults."""

from __future__ import annotations

import enum

import pydantic

from mediajobs.validation import StrictModel

MAX_URL_LENGTH = 2048


class WebhookEvent(enum.StrEnum):
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Channel(enum.StrEnum):
    WEBHOOK = "webhook"
    PUSH = "push"
    EMAIL = "email"


class DevicePlatform(enum.StrEnum):
    WEB = "web"
    ANDROID = "android"
    IOS = "ios"


ENDINGS = (WebhookEvent.COMPLETED, WebhookEvent.FAILED, WebhookEvent.CANCELLED)


class NotifySettings(StrictModel):
    """How the owner is told about the job (`notify` of start_job, stored on the job)."""

    webhook: str | None = pydantic.Field(
        default=None,
        min_length=8,
        max_length=MAX_URL_LENGTH,
        description="An https URL that receives a signed POST (Standard Webhooks) per wanted event.",
    )
    events: list[WebhookEvent] = pydantic.Field(
        default_factory=lambda: list(ENDINGS),
        min_length=1,
        max_length=4,
        description=(
            "Which events are delivered (default: the three endings). Push and email are sent for"
            " the endings listed here; `started` goes to the webhook only."
        ),
    )
    push: bool = pydantic.Field(
        default=False,
        strict=True,
        description="Send an FCM message to each device the owner registered (register_device).",
    )
    email: bool = pydantic.Field(
        default=False,
        strict=True,
        description="Write a `mail` document (Trigger Email extension) to the owner's verified Auth email.",
    )

    @pydantic.field_validator("events")
    @classmethod
    def no_duplicates(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        if len(set(events)) != len(events):
            raise ValueError("each event may be listed once")
        return events

    def wants(self, event: str) -> bool:
        return self.webhook is not None and event in self.events

    def channels_for(self, event: str) -> list[Channel]:
        """Every channel `event` goes to (push and email: endings only)."""
        found = [Channel.WEBHOOK] if self.wants(event) else []
        if event in self.events and event != WebhookEvent.STARTED:
            found += [channel for channel, on in ((Channel.PUSH, self.push), (Channel.EMAIL, self.email)) if on]
        return found


class WebhookSecretRequest(StrictModel):
    rotate: bool = pydantic.Field(default=False, description="Replace the secret with a new one first.")


# An FCM registration token: URL-safe characters and ':' (it becomes a document id).
FCM_TOKEN_PATTERN = r"^[A-Za-z0-9_:-]+$"


class RegisterDeviceRequest(StrictModel):
    token: str = pydantic.Field(
        min_length=20,
        max_length=1024,
        pattern=FCM_TOKEN_PATTERN,
        description="The FCM registration token of this app install (getToken() of the Firebase Messaging SDK).",
    )
    platform: DevicePlatform = pydantic.Field(description="web, android or ios.")


class NotificationDefaults(StrictModel):
    """users/{uid}/settings/notifications: how the owner's jobs that pass no `notify` tell them."""

    webhook: str | None = pydantic.Field(
        default=None, min_length=8, max_length=MAX_URL_LENGTH, description="An https URL (null: no webhook)."
    )
    push: bool = pydantic.Field(default=False, strict=True, description="Push to the owner's registered devices.")
    email: bool = pydantic.Field(default=False, strict=True, description="Email the owner's verified address.")

    def as_notify(self) -> NotifySettings | None:
        """The `notify` a job gets from these defaults; None when they ask for nothing."""
        if self.webhook is None and not self.push and not self.email:
            return None
        return NotifySettings(webhook=self.webhook, push=self.push, email=self.email)
