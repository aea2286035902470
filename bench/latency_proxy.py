"""A latency proxy in front of the Storage emulator: every HTTP request waits a fixed delay
before it is forwarded, as if Storage were a network hop away instead of a loopback call.

    python -m bench.latency_proxy --target http://127.0.0.1:PORT --delay-ms 20

Prints its own address (`http://127.0.0.1:<port>`) on the first line of stdout once it listens.
`./dev exec` starts it when MEDIAJOBS_STORAGE_LATENCY_MS is set (tools/devstack.py) and points
STORAGE_EMULATOR_HOST at it, for the functions and the benchmark alike.

The delay can be changed while it runs: `GET /__latency__?ms=20` (answered by the proxy itself,
never forwarded), so one benchmark run measures with and without it on the same stack.

Requests are parsed only as far as their boundaries (Content-Length or chunked bodies), which is
where the delay goes; responses are copied back unparsed. One upstream connection per client
connection, so keep-alive behaves as it would without the proxy. Nothing here is HTTPS.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import threading
import time
import urllib.parse

CONTROL_PATH = b"/__latency__"
BUFFER = 256 * 1024


class Settings:
    def __init__(self, delay_ms: float) -> None:
        self.delay = delay_ms / 1000


class Closed(Exception):
    """The client closed its connection (between requests or in the middle of one)."""


class Connection:
    """One client connection and the upstream connection paired with it."""

    def __init__(self, client: socket.socket, target: tuple[str, int], settings: Settings) -> None:
        self.client = client
        self.target = target
        self.settings = settings
        self.buffer = b""
        self.upstream: socket.socket | None = None

    def serve(self) -> None:
        try:
            while True:
                head = self._read_head()
                if head.split(b" ", 2)[1].startswith(CONTROL_PATH):
                    self._control(head)
                    continue
                if self.settings.delay:
                    time.sleep(self.settings.delay)
                upstream = self._upstream()
                upstream.sendall(head)
                self._forward_body(head, upstream)
        except (Closed, OSError):
            pass
        finally:
            for sock in (self.client, self.upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()

    def _recv(self) -> bytes:
        data = self.client.recv(BUFFER)
        if not data:
            raise Closed
        return data

    def _read_head(self) -> bytes:
        return self._read_through(b"\r\n\r\n")

    def _read_through(self, marker: bytes) -> bytes:
        """Everything up to and including the next `marker` (a request head, a chunk's line)."""
        while marker not in self.buffer:
            self.buffer += self._recv()
        end = self.buffer.index(marker) + len(marker)
        taken, self.buffer = self.buffer[:end], self.buffer[end:]
        return taken

    def _take(self, count: int) -> bytes:
        """Up to `count` bytes of body: what is buffered first, else one read."""
        if not self.buffer:
            self.buffer = self._recv()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _forward(self, upstream: socket.socket, count: int) -> None:
        """Sends the next `count` bytes of the client's body on."""
        while count:
            data = self._take(min(count, BUFFER))
            upstream.sendall(data)
            count -= len(data)

    def _forward_body(self, head: bytes, upstream: socket.socket) -> None:
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        if b"chunked" in headers.get(b"transfer-encoding", b""):
            self._forward_chunked(upstream)
            return
        self._forward(upstream, int(headers.get(b"content-length", b"0") or 0))

    def _forward_chunked(self, upstream: socket.socket) -> None:
        while True:
            size_line = self._read_through(b"\r\n")
            upstream.sendall(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:  # the trailer section ends with an empty line
                while (line := self._read_through(b"\r\n")) != b"\r\n":
                    upstream.sendall(line)
                upstream.sendall(line)
                return
            self._forward(upstream, size + 2)  # the chunk and its CRLF

    def _upstream(self) -> socket.socket:
        if self.upstream is None:
            self.upstream = socket.create_connection(self.target)
            self.upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._copy_back, args=(self.upstream,), daemon=True).start()
        return self.upstream

    def _copy_back(self, upstream: socket.socket) -> None:
        """Responses, unparsed; when Storage closes the connection, the client's closes too."""
        try:
            while data := upstream.recv(BUFFER):
                self.client.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            self.client.shutdown(socket.SHUT_RDWR)

    def _control(self, head: bytes) -> None:
        target = head.split(b" ", 2)[1].decode()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        if "ms" in query:
            self.settings.delay = max(0.0, float(query["ms"][0])) / 1000
        body = f"{self.settings.delay * 1000:g}\n".encode()
        self.client.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        raise Closed


def serve(target: str, delay_ms: float, port: int = 0) -> tuple[socket.socket, Settings]:
    """Listens on 127.0.0.1:`port` (0: any free port) and serves in a background thread."""
    parsed = urllib.parse.urlsplit(target if "://" in target else f"http://{target}")
    upstream = (parsed.hostname or "127.0.0.1", parsed.port or 80)
    settings = Settings(delay_ms)
    listener = socket.create_server(("127.0.0.1", port), backlog=128)

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=Connection(client, upstream, settings).serve, daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener, settings


def set_delay(proxy_url: str, delay_ms: float) -> float:
    """Sets a running proxy's delay; returns the delay it reports."""
    import urllib.request

    with urllib.request.urlopen(f"{proxy_url.rstrip('/')}{CONTROL_PATH.decode()}?ms={delay_ms:g}", timeout=10) as r:
        return float(r.read())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency_proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="the Storage emulator, e.g. http://127.0.0.1:9199")
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    listener, _ = serve(args.target, args.delay_ms, args.port)
    print(f"http://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
