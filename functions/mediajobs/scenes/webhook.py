"""The `replicate_webhook` HTTP function: signed prediction news, written to Firestore.

Only requests signed with the webhook secret are accepted (Standard Webhooks, as Replicate
signs them); news never moves a prediction's status backwards, so duplicates and late
deliveries are harmless. The worker waiting for the prediction reads this document.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pydantic
from firebase_functions import logger
from flask import Request, Response
from google.cloud import firestore as gfs

from mediajobs import config, platform
from mediajobs.scenes.providers.replicate_provider import PREDICTIONS
from mediajobs.validation import describe

STATUS_ORDER = {"starting": 0, "processing": 1, "succeeded": 2, "failed": 2, "canceled": 2}
MAX_BODY = 1024 * 1024


class PredictionNews(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="ignore")

    id: str = pydantic.Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")
    status: Literal["starting", "processing", "succeeded", "failed", "canceled"]
    output: Any = None
    error: Any = None
    logs: str | None = None


def text(status: int, message: str) -> Response:
    return Response(json.dumps({"message": message}), status=status, mimetype="application/json")


def handle_replicate_webhook(req: Request, secret: str | None = None) -> Response:
    if req.method != "POST":
        return text(405, "POST only.")
    secret = secret or config.REPLICATE_WEBHOOK_SECRET.value
    if not secret:
        return text(401, "Webhooks are not configured (secret REPLICATE_WEBHOOK_SECRET).")
    if (req.content_length or 0) > MAX_BODY:
        return text(413, "Body too large.")
    body = req.get_data(as_text=True)
    from replicate.webhook import Webhooks, WebhookSigningSecret, WebhookValidationError

    try:
        Webhooks.validate(headers=dict(req.headers), body=body, secret=WebhookSigningSecret(key=secret), tolerance=600)
    except (WebhookValidationError, ValueError) as error:
        logger.warn("rejected an unsigned or badly signed webhook", error=str(error))
        return text(401, f"Invalid webhook signature: {error}")
    try:
        news = PredictionNews.model_validate_json(body)
    except pydantic.ValidationError as error:
        return text(400, describe(error))
    record(news)
    return text(200, "ok")


def record(news: PredictionNews) -> None:
    ref = platform.db().collection(PREDICTIONS).document(news.id)

    @gfs.transactional
    def write(transaction: gfs.Transaction) -> None:
        snapshot = ref.get(transaction=transaction)
        current = snapshot.to_dict() or {}
        if STATUS_ORDER.get(str(current.get("status")), -1) > STATUS_ORDER[news.status]:
            return  # late news of an earlier state
        if STATUS_ORDER.get(str(current.get("status")), -1) == 2:
            return  # already final
        transaction.set(
            ref,
            {"status": news.status, "output": news.output, "error": news.error and str(news.error)[:2000],
             "logs": (news.logs or "")[-4000:], "webhook_at": gfs.SERVER_TIMESTAMP},
            merge=True,
        )  # fmt: skip

    write(platform.db().transaction())
