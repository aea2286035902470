"""The webhook's refusals tell an unauthenticated caller nothing: generic bodies, never the secret."""

from __future__ import annotations

import base64
import json
import time

from flask import Request
from werkzeug.test import EnvironBuilder

from mediajobs.scenes.webhook import handle_replicate_webhook
from tests.fake_replicate import signed_headers

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def request(body: str, headers: dict[str, str]) -> Request:
    return Request(EnvironBuilder(method="POST", data=body, headers=list(headers.items())).get_environ())


def test_a_malformed_secret_is_never_sent_back() -> None:
    body = '{"id": "abc", "status": "succeeded"}'
    secret = "whsec_this is not base64 at all!"

    reply = handle_replicate_webhook(request(body, signed_headers(SECRET, body)), secret=secret)

    assert reply.status_code == 401
    assert json.loads(reply.get_data()) == {"message": "Invalid webhook signature."}
    assert b"base64" not in reply.get_data() and b"not" not in reply.get_data()


def test_a_bad_signature_gets_a_generic_answer() -> None:
    body = '{"id": "abc", "status": "succeeded"}'
    headers = {**signed_headers(SECRET, body), "webhook-signature": "v1,AAAA"}

    reply = handle_replicate_webhook(request(body, headers), secret=SECRET)

    assert reply.status_code == 401
    assert json.loads(reply.get_data()) == {"message": "Invalid webhook signature."}


def test_news_signed_more_than_five_minutes_ago_is_refused() -> None:
    body = '{"id": "abc", "status": "succeeded"}'

    reply = handle_replicate_webhook(request(body, signed_headers(SECRET, body, int(time.time()) - 330)), secret=SECRET)

    assert reply.status_code == 401


def test_a_signed_body_we_cannot_use_gets_a_generic_answer() -> None:
    body = '{"id": "abc", "status": "exploded", "output": [[1]]}'

    reply = handle_replicate_webhook(request(body, signed_headers(SECRET, body)), secret=SECRET)

    assert reply.status_code == 400
    assert json.loads(reply.get_data()) == {"message": "Invalid webhook body."}
