"""The `notify` option of a job, a delivery record, and the events a webhook can ask for."""

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
        description="Which events are delivered (default: the three endings).",
    )

    @pydantic.field_validator("events")
    @classmethod
    def no_duplicates(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        if len(set(events)) != len(events):
            raise ValueError("each event may be listed once")
        return events

    def wants(self, event: str) -> bool:
        return self.webhook is not None and event in self.events


class WebhookSecretRequest(StrictModel):
    rotate: bool = pydantic.Field(default=False, description="Replace the secret with a new one first.")
