"""bench/latency_proxy.py: what passes through arrives whole, each request waits at least the
delay, and the delay can be changed while it runs."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from bench import latency_proxy

BODY = bytes(range(256)) * 12_000  # 3 MB, bigger than the proxy's buffer


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the Storage emulator does
    requests_seen = 0

    def do_GET(self) -> None:
        Upstream.requests_seen += 1
        self._answer(BODY)

    def do_POST(self) -> None:
        Upstream.requests_seen += 1
        if self.headers.get("Transfer-Encoding") == "chunked":
            data = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()  # the empty line after the last chunk
        else:
            data = self.rfile.read(int(self.headers["Content-Length"]))
        self._answer(hashlib.sha256(data).hexdigest().encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    listener, _ = latency_proxy.serve(f"http://127.0.0.1:{server.server_address[1]}", delay_ms=0)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    server.shutdown()
    server.server_close()


def test_bodies_pass_whole_both_ways_on_one_kept_connection(proxy: str) -> None:
    session = requests.Session()
    upload = bytes(reversed(BODY))
    for _ in range(3):
        assert session.get(f"{proxy}/o/a").content == BODY
        assert session.post(f"{proxy}/o", data=upload).text == hashlib.sha256(upload).hexdigest()
        chunked = (upload[i : i + 70_000] for i in range(0, len(upload), 70_000))  # Transfer-Encoding: chunked
        assert session.post(f"{proxy}/o", data=chunked).text == hashlib.sha256(upload).hexdigest()


def test_every_request_waits_at_least_the_delay_which_can_change(proxy: str) -> None:
    assert latency_proxy.set_delay(proxy, 50) == 50
    seen = Upstream.requests_seen
    session = requests.Session()
    start = time.perf_counter()
    for _ in range(4):
        session.get(f"{proxy}/o/a")
    assert time.perf_counter() - start >= 4 * 0.05  # a lower bound: sleeping never takes less
    assert Upstream.requests_seen == seen + 4  # the control requests were not forwarded
    assert latency_proxy.set_delay(proxy, 0) == 0
