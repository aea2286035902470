"""Fuzzing the project and scene callables' payloads and the `replicate_webhook` endpoint.

Payloads: a model instance that keeps the documented limits and can be stored, or
HttpsError(invalid-argument) with a message. The webhook: 200 only for a correctly signed,
valid body (and then the news recorded is that body); 401 for anything unsigned or badly
signed, 400 for a signed but invalid body; never an exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any
from unittest import mock

import pydantic
from firebase_functions import https_fn
from flask import Request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from mediajobs.jobs.api import parse
from mediajobs.scenes import models, webhook
from tests.unit.fuzz_strategies import assert_storable, hostile_text, json_values, objects_with

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = "whsec_" + base64.b64encode(b"fuzzing-secret-0123456789abcdef").decode()

doc_ids = st.one_of(st.from_regex(models.DOC_ID, fullmatch=True), hostile_text)
long_text = st.one_of(hostile_text, st.integers(0, 5000).map(lambda n: "x" * n))
durations = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 500))
brief = objects_with({name: long_text for name in models.CreativeBrief.model_fields})
colours = st.one_of(st.from_regex(models.HEX_COLOUR, fullmatch=True), hostile_text)
mood_object = objects_with(
    {"id": doc_ids, "name": long_text, "description": long_text, "visual_style": long_text,
     "color_palette": st.lists(colours, max_size=14), "mood_keywords": st.lists(long_text, max_size=22),
     "image_path": long_text, "image_paths": st.lists(long_text, max_size=9), "image_url": long_text,
     "image": st.one_of(long_text, objects_with({"url": long_text})),
     "images": st.lists(objects_with({"id": doc_ids, "url": long_text, "path": long_text}), max_size=9)}
)  # fmt: skip
storyboard = objects_with(
    {"id": doc_ids, "title": long_text, "creative_brief": brief, "selected_mood": st.one_of(long_text, mood_object)}
)

PAYLOADS: dict[type[pydantic.BaseModel], st.SearchStrategy[Any]] = {
    models.CreateProject: objects_with({"name": long_text, "description": long_text, "storyboard": storyboard}),
    models.UpdateProject: objects_with(
        {"project_id": doc_ids, "name": long_text, "description": long_text, "storyboard": storyboard}
    ),
    models.ProjectRef: objects_with({"project_id": doc_ids}),
    models.AddScene: objects_with(
        {
            "project_id": doc_ids,
            "title": long_text,
            "description": long_text,
            "duration_seconds": durations,
            "scene_number": st.integers(-5, 2000),
        }
    ),
    models.UpdateScene: objects_with(
        {
            "project_id": doc_ids,
            "scene_id": doc_ids,
            "title": long_text,
            "description": long_text,
            "duration_seconds": durations,
            "scene_number": st.integers(-5, 2000),
        }
    ),
    models.GenerateSceneAsset: objects_with(
        {"project_id": doc_ids, "scene_id": doc_ids, "kind": st.sampled_from([*models.ASSET_KINDS, "gif"])}
    ),
}


def _text_limits_hold(model: pydantic.BaseModel) -> None:
    """Every text field is within its declared max_length; every id matches DOC_ID."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, pydantic.BaseModel):
            _text_limits_hold(value)
        elif isinstance(value, str):
            limits = [m.max_length for m in field.metadata if getattr(m, "max_length", None) is not None]
            assert all(len(value) <= limit for limit in limits), (name, len(value))
            if name.endswith("_id"):
                assert re.fullmatch(models.DOC_ID, value)


payloads = st.one_of(*(st.tuples(st.just(m), s) for m, s in PAYLOADS.items())) | st.tuples(
    st.sampled_from(list(PAYLOADS)), json_values
)


@FUZZ
@given(payloads)
@example((models.CreateProject, {"name": "n", "storyboard": {"creative_brief": {"tone": "\udc80"}}}))
@example((models.AddScene, {"project_id": "p", "title": "t", "duration_seconds": float("nan")}))
@example((models.AddScene, {"project_id": "p", "title": "t", "duration_seconds": float("inf")}))
@example((models.UpdateScene, {"project_id": "p", "scene_id": "../s"}))
def test_callable_payloads_are_valid_or_invalid_argument(case: tuple[type[pydantic.BaseModel], Any]) -> None:
    model, data = case
    try:
        request = parse(model, data)
    except https_fn.HttpsError as error:
        assert error.code == https_fn.FunctionsErrorCode.INVALID_ARGUMENT and error.message.strip()
        return
    _text_limits_hold(request)
    duration = getattr(request, "duration_seconds", None)
    assert duration is None or 0 < duration <= 120
    number = getattr(request, "scene_number", None)
    assert number is None or 1 <= number <= 1000
    assert_storable(request.model_dump())


def sign(body: str, webhook_id: str, stamp: str, secret: str = SECRET) -> str:
    key = base64.b64decode(secret.split("_", 1)[1])
    digest = hmac.new(key, f"{webhook_id}.{stamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def request_of(body: bytes, headers: dict[str, str], method: str = "POST") -> Request:
    builder = EnvironBuilder(method=method, data=body, headers=list(headers.items()), content_type="application/json")
    return Request(builder.get_environ())


def call_webhook(req: Request) -> tuple[int, dict[str, Any], list[webhook.PredictionNews]]:
    recorded: list[webhook.PredictionNews] = []

    def record(news: webhook.PredictionNews) -> bool:
        recorded.append(news)
        return True  # a prediction of ours

    with mock.patch.object(webhook, "record", side_effect=record):
        response = webhook.handle_replicate_webhook(req, secret=SECRET)
    body = json.loads(response.get_data(as_text=True))
    assert isinstance(body.get("message"), str) and body["message"].strip()
    return response.status_code, body, recorded


news_bodies = st.one_of(
    st.builds(
        json.dumps,
        objects_with(
            {
                "id": doc_ids,
                "status": st.sampled_from(["starting", "processing", "succeeded", "failed", "canceled", "queued"]),
                "output": json_values,
                "error": json_values,
                "logs": st.one_of(hostile_text, st.none()),
            }
        ),
    ),
    st.text(max_size=60),
)


@FUZZ
@given(news_bodies, st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), min_size=1, max_size=20))
@example('{"id": "p1", "status": "succeeded", "output": ["https://x/y.png"]}', "msg_1")
@example('{"id": "p1", "status": "processing", "logs": "\\ud800"}', "msg_2")
@example('{"id": "p1", "status": "' + "x" * 5000 + '"}', "msg_3")
@example('{"id": "p1", "status": "succeeded", "output": [["a"]], "error": null}', "msg_5")
@example('{"id": "p1", "status": "succeeded", "output": 123456789012345678901234567890}', "msg_6")
@example("[" * 5000 + "]" * 5000, "msg_4")
def test_signed_webhooks_are_recorded_or_refused_with_400(body: str, webhook_id: str) -> None:
    stamp = str(int(time.time()))
    headers = {"webhook-id": webhook_id, "webhook-timestamp": stamp, "webhook-signature": sign(body, webhook_id, stamp)}
    status, _, recorded = call_webhook(request_of(body.encode("utf-8", "surrogatepass"), headers))
    if status == 200:
        assert len(recorded) == 1
        news = recorded[0]
        assert news == webhook.PredictionNews.model_validate_json(body)
        assert news.status in webhook.STATUS_ORDER and re.fullmatch(r"[A-Za-z0-9_-]{1,128}", news.id)
        assert_storable({"output": news.output, "error": news.error and str(news.error), "logs": news.logs})
    else:
        assert status in (400, 401) and not recorded  # 401: a body that is not UTF-8 is signed differently


header_values = st.one_of(
    st.text(st.characters(codec="latin-1", exclude_characters="\r\n"), max_size=40),
    st.sampled_from(["", "v1,", "v1,!!!", "v1,AAAA", "x", "v1," + "A" * 43 + "=", "9" * 5000, "-1", "1e9"]),
)


@FUZZ
@given(
    st.binary(max_size=200) | news_bodies.map(str.encode),
    st.fixed_dictionaries(
        {},
        optional={"webhook-id": header_values, "webhook-timestamp": header_values, "webhook-signature": header_values},
    ),
)
@example(
    b'{"id": "p", "status": "succeeded"}', {"webhook-id": "m", "webhook-timestamp": "now", "webhook-signature": "v1"}
)
@example(b'{"id": "p", "status": "succeeded"}', {"webhook-id": "m", "webhook-timestamp": "9" * 5000})
@example(b"{}", {"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": "v1,%%%"})
def test_unsigned_or_badly_signed_webhooks_are_refused(body: bytes, headers: dict[str, str]) -> None:
    status, body_json, recorded = call_webhook(request_of(body, headers))
    assert status == 401 and not recorded, body_json


@FUZZ
@given(st.sampled_from(["GET", "PUT", "DELETE", "PATCH"]), st.binary(max_size=50))
def test_other_methods_are_refused(method: str, body: bytes) -> None:
    status, _, recorded = call_webhook(request_of(body, {}, method=method))
    assert status == 405 and not recorded


def test_an_old_signed_webhook_is_refused() -> None:
    body, stamp = '{"id": "p1", "status": "succeeded"}', str(int(time.time()) - 3600)
    headers = {"webhook-id": "m", "webhook-timestamp": stamp, "webhook-signature": sign(body, "m", stamp)}
    status, _, recorded = call_webhook(request_of(body.encode(), headers))
    assert status == 401 and not recorded
