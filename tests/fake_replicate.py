"""A local HTTP server that speaks Replicate's documented predictions API, for tests.

    POST /v1/models/{owner}/{name}/predictions, POST /v1/predictions   create (the latter with
                                                                       `version`: "{owner}/{name}:{version_id}")
    GET  /v1/predictions/{id}                                          get
    POST /v1/predictions/{id}/cancel                                   cancel
    GET  /files/{id}                                                   the output file

Predictions go starting -> processing (with "NN%" logs) -> succeeded | failed | canceled on a
timer, and signed webhooks (Standard Webhooks, as Replicate signs them) are sent for the
events in `webhook_events_filter`. `behaviour` and `create_errors` script the scenarios.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests


@dataclasses.dataclass
class Prediction:
    id: str
    model: str
    input: dict[str, Any]
    webhook: str | None
    events: list[str]
    version: str = "v1"  # the version id the prediction runs (a pinned one, or the model's latest)
    status: str = "starting"
    logs: str = ""
    output: Any = None
    error: str | None = None
    created_at: str = dataclasses.field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def as_json(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id, "model": self.model, "version": self.version, "status": self.status, "input": self.input,
            "output": self.output, "logs": self.logs, "error": self.error, "metrics": {},
            "created_at": self.created_at, "started_at": self.created_at, "completed_at": None,
            "urls": {"get": f"{base}/v1/predictions/{self.id}", "cancel": f"{base}/v1/predictions/{self.id}/cancel"},
        }  # fmt: skip


class FakeReplicate:
    def __init__(self, webhook_secret: str, outputs: dict[str, tuple[bytes, str]], port: int = 0) -> None:
        self.webhook_secret = webhook_secret
        self.outputs = outputs  # kind-ish key ("image", "video", "audio") -> (bytes, content type)
        self.behaviour = "succeed"  # succeed | fail | hang | garbage | wrong-type | redirect
        self.create_errors: list[int] = []  # statuses answered to the next creates, in order
        self.step_seconds = 0.3
        self.predictions: dict[str, Prediction] = {}
        self.creates = 0
        self.cancels: list[str] = []
        self.webhooks_sent: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()

    # -------------------------------------------------------------- lifecycle

    def _run(self, prediction: Prediction) -> None:
        def advance(status: str, logs: str = "", event: str = "") -> bool:
            with self.lock:
                if prediction.status == "canceled":
                    return False
                prediction.status = status
                prediction.logs += logs
            if event:
                self._webhook(prediction, event)
            return True

        time.sleep(self.step_seconds)
        if not advance("processing", "booting\n", "start"):
            return
        if self.behaviour == "hang":
            return  # never finishes: the client must time out and cancel
        for percent in (25, 50, 75, 100):
            time.sleep(self.step_seconds / 2)
            if not advance("processing", f"{percent}%|####|\n", "logs"):
                return
        with self.lock:
            if prediction.status == "canceled":
                return
            if self.behaviour == "fail":
                prediction.status, prediction.error = "failed", "CUDA out of memory (simulated)"
            elif "llm" in prediction.model and "visual mood" in str(prediction.input.get("prompt", "")):
                prediction.status = "succeeded"  # a mood for a mood board, as a language model might write it
                prediction.output = ["Sure! ", '{"description": "Neon Tide: electric blues over wet asphalt.", ',
                                     '"styling": "glossy night, palette #0ff0fc #1a1a2e #e94560", ',
                                     '"animation": "electric, nocturnal, glossy"}']  # fmt: skip
            elif "llm" in prediction.model:
                prediction.status = "succeeded"
                prediction.output = ['{"description": "A hero shot", ', '"styling": "warm", "animation": "push-in"}']
            else:
                prediction.status = "succeeded"
                prediction.output = [f"{self.url}/files/{prediction.id}"]
        self._webhook(prediction, "completed")

    def _webhook(self, prediction: Prediction, event: str) -> None:
        if not prediction.webhook or event not in prediction.events:
            return
        body = json.dumps(prediction.as_json(self.url))
        headers = signed_headers(self.webhook_secret, body)
        try:
            status = requests.post(prediction.webhook, data=body, headers=headers, timeout=30).status_code
        except requests.RequestException:
            status = 0
        self.webhooks_sent.append((event, status))

    # -------------------------------------------------------------- HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: Any, content_type: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.startswith("/files/"):
                    prediction = fake.predictions.get(self.path.rsplit("/", 1)[1].removesuffix("-moved"))
                    if prediction is None:
                        return self.reply(404, {"detail": "not found"})
                    data, content_type = fake.outputs[_kind_of(prediction.model)]
                    if fake.behaviour == "garbage":
                        data = b"\x89PNG but not really" + bytes(100)
                    if fake.behaviour == "wrong-type":
                        data, content_type = b"<html>expired</html>", "text/html"
                    if fake.behaviour == "redirect" and not self.path.endswith("-moved"):
                        self.send_response(302)
                        self.send_header("Location", f"{fake.url}{self.path}-moved")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    return self.reply(200, data, content_type)
                if not self._authorized():
                    return None
                prediction = fake.predictions.get(self.path.rsplit("/", 1)[1])
                if prediction is None:
                    return self.reply(404, {"detail": "Not found."})
                with fake.lock:
                    return self.reply(200, prediction.as_json(fake.url))

            def do_POST(self) -> None:
                if not self._authorized():
                    return None
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path.endswith("/cancel"):
                    prediction_id = self.path.split("/")[-2]
                    fake.cancels.append(prediction_id)
                    prediction = fake.predictions.get(prediction_id)
                    if prediction is None:
                        return self.reply(404, {"detail": "Not found."})
                    with fake.lock:
                        if prediction.status not in ("succeeded", "failed"):
                            prediction.status = "canceled"
                        return self.reply(200, prediction.as_json(fake.url))
                fake.creates += 1
                if fake.create_errors:
                    status = fake.create_errors.pop(0)
                    return self.reply(status, {"title": "Too many requests" if status == 429 else "Server error",
                                               "detail": f"simulated {status}", "status": status})  # fmt: skip
                model, version = self.path.removeprefix("/v1/models/").removesuffix("/predictions"), "v1"
                if self.path == "/v1/predictions":  # {version: "owner/name:version_id"} pins a model version
                    model, _, version = str(body.get("version", "")).partition(":")
                    if not re.fullmatch(r"[\w.-]+/[\w.-]+", model) or not re.fullmatch(r"[0-9a-f]{64}", version):
                        return self.reply(422, {"title": "Invalid version", "status": 422,
                                                "detail": "The specified version does not exist (or perhaps you "
                                                          "don't have permission to use it?)"})  # fmt: skip
                prediction = Prediction(
                    id=uuid.uuid4().hex[:20], model=model, input=body.get("input", {}), webhook=body.get("webhook"),
                    events=body.get("webhook_events_filter") or ["start", "output", "logs", "completed"],
                    version=version,
                )  # fmt: skip
                fake.predictions[prediction.id] = prediction
                threading.Thread(target=fake._run, args=(prediction,), daemon=True).start()
                return self.reply(201, prediction.as_json(fake.url))

            def _authorized(self) -> bool:
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    self.reply(401, {"detail": "You did not pass an authentication token"})
                    return False
                return True

        return Handler


def _kind_of(model: str) -> str:
    for kind in ("image", "video", "audio"):
        if kind in model:
            return kind
    return "image"


def signed_headers(secret: str, body: str, stamp: int | None = None) -> dict[str, str]:
    """The headers of a webhook signed as Replicate signs them (Standard Webhooks)."""
    webhook_id, when = f"msg_{uuid.uuid4().hex}", str(int(time.time()) if stamp is None else stamp)
    key = base64.b64decode(secret.split("_", 1)[1])
    signature = base64.b64encode(hmac.new(key, f"{webhook_id}.{when}.{body}".encode(), hashlib.sha256).digest())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": when,
        "webhook-signature": f"v1,{signature.decode()}",
        "Content-Type": "application/json",
    }
