"""A local HTTP server that speaks the FCM HTTP v1 send API, for tests.

    POST /v1/projects/{project}/messages:send   {"message": {...}} -> {"name": "projects/{p}/messages/{id}"}

Tokens in `unregistered` are answered as FCM answers a token whose app was uninstalled (404,
FcmError UNREGISTERED), which firebase-admin raises as `messaging.UnregisteredError`. The
functions reach it through FCM_EMULATOR_HOST (./dev sets it to a port of its block).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SEND_SUFFIX = "/messages:send"


class FakeFcm:
    def __init__(self, port: int | None = None) -> None:
        if port is None:
            port = int(os.environ["FCM_EMULATOR_HOST"].rsplit(":", 1)[1])
        self.unregistered: set[str] = set()
        self.messages: list[dict[str, Any]] = []  # every accepted message, as sent
        self.refused: list[str] = []  # tokens answered UNREGISTERED
        self.authorizations: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                project = self.path.removeprefix("/v1/projects/").removesuffix(SEND_SUFFIX)
                known = self.path.startswith("/v1/projects/") and self.path.endswith(SEND_SUFFIX)
                if not known or "/" in project:
                    return self._answer(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
                message = body.get("message") or {}
                token = str(message.get("token", ""))
                with fake.lock:
                    fake.authorizations.append(self.headers.get("authorization", ""))
                    if token in fake.unregistered:
                        fake.refused.append(token)
                        return self._answer(404, unregistered_error())
                    fake.messages.append(message)
                return self._answer(200, {"name": f"projects/{project}/messages/{uuid.uuid4().hex}"})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages_for(self, job_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages if (m.get("data") or {}).get("job_id") == job_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def unregistered_error() -> dict[str, Any]:
    """FCM's answer for a token that is no longer registered."""
    return {
        "error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "status": "NOT_FOUND",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}],
        }
    }
