"""The webhook step of `python -m mediajobs.cli demo`: a job that tells a local receiver when it
starts and ends, with Standard Webhooks signatures checked, and its deliveries on record."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable
from typing import Any

from standardwebhooks import Webhook

from mediajobs import cloud
from mediajobs.cli import client

WAIT_SECONDS = 60


class _Receiver:
    """A loopback receiver (the local stack allows plain http to loopback) keeping each POST."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], str]] = []
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/jobs"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def demo_webhook(user: client.User, watch: Callable[[str], dict[str, Any]]) -> bool:
    """Runs a small selftest job with `notify.webhook`, prints each verified delivery."""
    receiver = _Receiver()
    try:
        secret = client.call("webhook_secret", {}, user.id_token)["secret"]
        notify = {"webhook": receiver.url, "events": ["started", "completed"]}
        job = client.call("start_job", {"type": "selftest", "input": {"items": 3}, "notify": notify}, user.id_token)
        final = watch(job["job_id"])
        deadline = time.monotonic() + WAIT_SECONDS
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        receiver.server.shutdown()
    print(f"  receiver {receiver.url}: {len(receiver.received)} deliveries")
    ok = final["status"] == "completed" and len(receiver.received) == 2
    for headers, body in receiver.received:
        view = Webhook(secret).verify(body, headers)  # raises if the signature does not hold
        event, status = view["event"], view["status"]
        print(f"  webhook-id {headers['webhook-id']}: signature verified, event {event}, status {status}")
    deliveries = cloud.db().collection("jobs").document(job["job_id"]).collection("deliveries").stream()
    for delivery in sorted((d.to_dict() or {} for d in deliveries), key=lambda d: d["attempted_at"]):
        print(f"  on record: {delivery['event']} attempt {delivery['attempt']}: HTTP {delivery['status_code']}")
    return ok
