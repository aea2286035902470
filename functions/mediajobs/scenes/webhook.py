"""The `replicate_webhook` HTTP function: signed prediction news, written to Firestore.

Only requests signed with the webhook secret within 5 minutes are accepted (Standard
Webhooks, as Replicate signs them), and only news of predictions this project created (their
document is written at create time); news never moves a prediction's status backwards, so
duplicates and late deliveries are harmless. The worker waiting for the prediction reads this
document. Refusals answer a generic message; the details go to the log, the secret nowhere.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pydantic
from firebase_functions import logger
from flask import Request, Response
from google.cloud import firestore as gfs

from mediajobs import cloud, config
from mediajobs.scenes.providers.replicate_provider import PREDICTIONS
from mediajobs.validation import describe

STATUS_ORDER = {"starting": 0, "processing": 1, "succeeded": 2, "failed": 2, "canceled": 2}
MAX_BODY = 1024 * 1024
INT64 = range(-(2**63), 2**63)
MAX_DEPTH = 20  # Firestore's nesting limit for maps and arrays
TOLERANCE_SECONDS = 300  # Standard Webhooks: timestamps more than 5 minutes off are refused


class PredictionNews(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="ignore")

    id: str = pydantic.Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")
    status: Literal["starting", "processing", "succeeded", "failed", "canceled"]
    output: Any = None
    error: Any = None
    logs: str | None = None

    @pydantic.field_validator("output")
    @classmethod
    def storable(cls, output: Any) -> Any:
        """The output is kept in Firestore as is: refuse what it cannot hold, rather than fail to write."""
        if problem := _unstorable(output):
            raise ValueError(f"{problem}; expected a URL, text or a flat list of them")
        return output


def _unstorable(value: Any, depth: int = 0, in_list: bool = False) -> str | None:
    if depth > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
        return f"the number {value} is beyond 64 bits"
    if isinstance(value, list):
        if in_list:
            return "a list inside a list"
        return next((p for item in value if (p := _unstorable(item, depth + 1, True))), None)
    if isinstance(value, dict):
        return next((p for item in value.values() if (p := _unstorable(item, depth + 1))), None)
    return None


def text(status: int, message: str) -> Response:
    return Response(json.dumps({"message": message}), status=status, mimetype="application/json")


def handle_replicate_webhook(req: Request, secret: str | None = None) -> Response:
    if req.method != "POST":
        return text(405, "POST only.")
    secret = secret or config.REPLICATE_WEBHOOK_SECRET.value
    if not secret:
        logger.error("a webhook arrived but the secret REPLICATE_WEBHOOK_SECRET is not set")
        return text(401, "Invalid webhook signature.")
    if (req.content_length or 0) > MAX_BODY:
        return text(413, "Body too large.")
    body = req.get_data(as_text=True)
    from replicate.webhook import Webhooks, WebhookSigningSecret, WebhookValidationError

    try:
        Webhooks.validate(
            headers=dict(req.headers), body=body, secret=WebhookSigningSecret(key=secret), tolerance=TOLERANCE_SECONDS
        )
    except (WebhookValidationError, ValueError) as error:
        detail = str(error).replace(secret, "<REPLICATE_WEBHOOK_SECRET>")  # some messages quote the secret
        logger.warn("rejected an unsigned or badly signed webhook", error=type(error).__name__, detail=detail[:500])
        return text(401, "Invalid webhook signature.")
    try:
        news = PredictionNews.model_validate_json(body)
    except pydantic.ValidationError as error:
        logger.warn("rejected a signed webhook with a body we cannot use", detail=describe(error)[:1000])
        return text(400, "Invalid webhook body.")
    if not record(news):
        logger.warn("ignored news of a prediction this project did not create", prediction_id=news.id)
        return text(404, "Unknown prediction.")
    return text(200, "ok")


def record(news: PredictionNews) -> bool:
    """Stores the news of a prediction we created (False, nothing stored, for any other id)."""
    ref = cloud.db().collection(PREDICTIONS).document(news.id)

    @gfs.transactional
    def write(transaction: gfs.Transaction) -> bool:
        snapshot = ref.get(transaction=transaction)
        if not snapshot.exists:
            return False  # created by the provider before it waits: anything else is not ours
        current = snapshot.to_dict() or {}
        if STATUS_ORDER.get(str(current.get("status")), -1) > STATUS_ORDER[news.status]:
            return True  # late news of an earlier state
        if STATUS_ORDER.get(str(current.get("status")), -1) == 2:
            return True  # already final
        transaction.set(
            ref,
            {"status": news.status, "output": news.output, "error": news.error and str(news.error)[:2000],
             "logs": (news.logs or "")[-4000:], "webhook_at": gfs.SERVER_TIMESTAMP},
            merge=True,
        )  # fmt: skip
        return True

    stored: bool = write(cloud.db().transaction())
    return stored
