"""A small client of the deployed API, as web and mobile clients use it: sign in, call
callables with an ID token, watch a job document with a real-time listener."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from mediajobs import cloud
from mediajobs.jobs.models import TERMINAL_STATUSES

TIMEOUT = 60


class CallableError(Exception):
    def __init__(self, status: str, message: str, http_status: int) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.http_status = http_status


@dataclasses.dataclass
class User:
    uid: str
    email: str
    password: str
    id_token: str


def auth_emulator_url(path: str) -> str:
    host = os.environ["FIREBASE_AUTH_EMULATOR_HOST"]
    return f"http://{host}/identitytoolkit.googleapis.com/v1/{path}?key=fake-api-key"


def sign_up(email: str, password: str = "password-123", admin: bool = False) -> User:
    """Creates a user in the Auth emulator (admin: with the custom claim) and signs in."""
    response = requests.post(
        auth_emulator_url("accounts:signUp"),
        json={"email": email, "password": password, "returnSecureToken": True},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    uid = response.json()["localId"]
    if admin:
        from firebase_admin import auth

        auth.set_custom_user_claims(uid, {"admin": True}, app=cloud.app())
    return sign_in(email, password)


def sign_in(email: str, password: str = "password-123") -> User:
    response = requests.post(
        auth_emulator_url("accounts:signInWithPassword"),
        json={"email": email, "password": password, "returnSecureToken": True},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    body = response.json()
    return User(uid=body["localId"], email=email, password=password, id_token=body["idToken"])


def call(name: str, data: Any, id_token: str | None = None, timeout: float = TIMEOUT) -> Any:
    """Calls a callable function by the Firebase callable protocol."""
    headers = {"Content-Type": "application/json"}
    if id_token:
        headers["Authorization"] = f"Bearer {id_token}"
    response = requests.post(
        f"{os.environ['FUNCTIONS_ORIGIN']}/{name}", json={"data": data}, headers=headers, timeout=timeout
    )
    try:
        body = response.json()
    except ValueError:
        raise CallableError("internal", response.text[:500], response.status_code) from None
    if "error" in body:
        error = body["error"]
        raise CallableError(str(error.get("status")), str(error.get("message")), response.status_code)
    return body.get("result")


LISTEN_CHECK = 10.0  # seconds between direct reads while a job is watched


def watch_job(
    job_id: str, on_change: Callable[[dict[str, Any]], None] | None = None, timeout: float = 300
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Listens to jobs/{job_id} with on_snapshot until it ends; returns (final, every snapshot).

    A listen stream can stall without an error (seen once on the emulator: the job ended, the
    listener kept its first snapshot), so the document is also read every LISTEN_CHECK seconds."""
    seen: list[dict[str, Any]] = []
    done = threading.Event()
    lock = threading.Lock()

    def record(data: dict[str, Any]) -> None:
        with lock:  # the listener's thread and this one's direct reads
            seen.append(data)
            if on_change:
                on_change(data)
            if data.get("status") in TERMINAL_STATUSES:
                done.set()

    def on_snapshot(docs: list[Any], _changes: Any, _read_time: Any) -> None:
        for doc in docs:
            record(doc.to_dict() or {})

    ref = cloud.db().collection("jobs").document(job_id)
    watch = ref.on_snapshot(on_snapshot)
    deadline = time.monotonic() + timeout
    try:
        while not done.wait(max(0.0, min(LISTEN_CHECK, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                last = seen[-1] if seen else {}
                raise TimeoutError(f"job {job_id} did not end within {timeout:.0f}s; last state: {last}")
            current = ref.get().to_dict() or {}
            if current.get("status") in TERMINAL_STATUSES:
                record(current)  # the listener missed the end
    finally:
        watch.unsubscribe()  # type: ignore[no-untyped-call]
    return seen[-1], seen
