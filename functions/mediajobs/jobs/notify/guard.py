"""Where a webhook may be delivered: public https addresses only, checked after DNS resolution,
and the request then goes to the very address that was checked (no second lookup an attacker
could answer differently), with no redirects, a 10 s timeout and at most 64 KiB of answer read.

Plain http, and loopback addresses, are allowed only on the local stack (the functions
emulator, or a demo-* project), so tests can run a receiver on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import time
import urllib.parse

import httpx

from mediajobs import cloud, config
from mediajobs.addresses import refused_address

UNRESOLVED = "does not resolve"  # the one refusal worth retrying: DNS may answer later
TIMEOUT_S = 10.0
MAX_ANSWER_BYTES = 64 * 1024


class RefusedUrl(ValueError):
    """The URL must not be called; the message says why, for the caller."""


@dataclasses.dataclass(frozen=True)
class Target:
    url: str  # as given
    scheme: str
    host: str  # the name in the URL (Host header, TLS server name)
    port: int
    path: str  # path and query
    address: str  # the checked address the request goes to


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, timed out, reset)
    latency_ms: int
    error: str | None = None


def loopback_allowed() -> bool:
    """The local stack: the functions emulator, or any demo-* project."""
    return cloud.running_on_emulators() or config.project_id().startswith("demo-")


def check(url: str, allow_loopback: bool | None = None) -> Target:
    """The target of a webhook URL once every address its host resolves to is public;
    RefusedUrl otherwise. `allow_loopback` defaults to `loopback_allowed()`."""
    loopback = loopback_allowed() if allow_loopback is None else allow_loopback
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedUrl("is not a valid URL") from None
    if parts.scheme != "https" and not (loopback and parts.scheme == "http"):
        raise RefusedUrl("is not https")
    if not parts.hostname:
        raise RefusedUrl("has no host")
    if parts.username or parts.password:
        raise RefusedUrl("must not carry a user name or password")
    if parts.fragment:
        raise RefusedUrl("must not have a #fragment")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise RefusedUrl(UNRESOLVED) from None
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise RefusedUrl(UNRESOLVED)
    for address in addresses:
        if problem := refused_address(address, loopback):
            raise RefusedUrl(problem)
        if parts.scheme == "http" and not ipaddress.ip_address(address.split("%", 1)[0]).is_loopback:
            raise RefusedUrl("is not https (plain http only to loopback, on the local stack)")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url, parts.scheme, parts.hostname, port, path, addresses[0])


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POSTs to the checked address (the URL's name kept for Host and TLS), reading at most
    MAX_ANSWER_BYTES of the answer; never follows a redirect."""
    literal = f"[{target.address}]" if ":" in target.address else target.address
    url = f"{target.scheme}://{literal}:{target.port}{target.path}"
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if target.port == default_port else f"{target.host}:{target.port}"
    sent = {**headers, "host": host, "content-type": "application/json", "user-agent": "mediajobs-webhooks/1"}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    started = time.monotonic()
    try:
        with (
            httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False) as client,
            client.stream("POST", url, content=body, headers=sent, extensions=extensions) as response,
        ):
            read = 0
            for chunk in response.iter_bytes():
                read += len(chunk)
                if read >= MAX_ANSWER_BYTES:
                    break
            return Answer(response.status_code, _ms_since(started))
    except httpx.HTTPError as error:
        return Answer(None, _ms_since(started), f"{type(error).__name__}: {error}"[:300])


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
