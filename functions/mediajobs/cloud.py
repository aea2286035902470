"""The Firebase Admin app, Firestore, Storage and Cloud Tasks, set up once per process.

Against the emulators there are no Google credentials, so the app gets a credential that
hands out the emulators' well-known "owner" token instead of looking for one.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import TYPE_CHECKING, Any

import firebase_admin
import google.auth.credentials
from firebase_admin import credentials

if TYPE_CHECKING:
    from google.cloud.firestore import Client as FirestoreClient
    from google.cloud.storage import Bucket

PROJECT_ENV_VARS = ("GCLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT")
EMULATED_SERVICE_ACCOUNT = "emulated-service-acct@email.com"


def running_on_emulators() -> bool:
    return os.environ.get("FUNCTIONS_EMULATOR") == "true" or bool(os.environ.get("FIRESTORE_EMULATOR_HOST"))


class _EmulatorGoogleCredentials(google.auth.credentials.Credentials):
    """A token the emulators accept ("owner"), never expiring, never leaving this machine."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "owner"
        self.service_account_email = EMULATED_SERVICE_ACCOUNT

    def refresh(self, request: Any) -> None:
        self.token = "owner"
        self.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)


class EmulatorCredential(credentials.Base):  # type: ignore[misc]
    def get_credential(self) -> google.auth.credentials.Credentials:
        return _EmulatorGoogleCredentials()


@functools.cache
def app() -> firebase_admin.App:
    """The default app; initialised here so that every module shares one."""
    try:
        return firebase_admin.get_app()
    except ValueError:
        pass
    options: dict[str, Any] = {}
    if bucket_name := os.environ.get("STORAGE_BUCKET"):
        options["storageBucket"] = bucket_name
    if running_on_emulators():
        project = next((os.environ[n] for n in PROJECT_ENV_VARS if os.environ.get(n)), None)
        if project:
            options["projectId"] = project
        return firebase_admin.initialize_app(EmulatorCredential(), options or None)
    return firebase_admin.initialize_app(options=options or None)


def db() -> FirestoreClient:
    from firebase_admin import firestore

    from mediajobs import rpc_meter

    rpc_meter.install()  # a no-op unless a benchmark asks for it
    return firestore.client(app())


def bucket() -> Bucket:
    from firebase_admin import storage

    found = storage.bucket(app=app())
    session = found.client._http
    if session.trust_env and (running_on_emulators() or os.environ.get("K_SERVICE")):
        # Inside a function (or against the local emulators) no proxy or CA-bundle variable
        # applies, and requests would scan the environment and stat the CA bundle on every
        # call: a measured 10% of an export worker's CPU.
        session.trust_env = False
    return found


def enqueue(
    queue: str,
    data: dict[str, Any],
    *,
    dispatch_deadline_seconds: int,
    task_id: str | None = None,
    delay_seconds: int | None = None,
) -> None:
    """Adds a task for the task-queue function `queue` (jobs/queues.enqueue gives its row's
    dispatch deadline); a task id already used is a no-op. `delay_seconds` defers its
    dispatch (on Cloud Tasks, and on the local stack's Tasks emulator through tools/emulators_preload.cjs)."""
    from firebase_admin import functions

    from mediajobs import config

    options = functions.TaskOptions(
        task_id=task_id,
        schedule_delay_seconds=delay_seconds,
        dispatch_deadline_seconds=dispatch_deadline_seconds,
    )
    try:
        # Task functions speak the callable protocol, whose body is {"data": ...}; the Python
        # Admin SDK sends the payload as the body as it is (the Node one wraps it).
        functions.task_queue(task_queue_path(queue, config.REGION.value), app=app()).enqueue({"data": data}, options)
    except (firebase_admin.exceptions.AlreadyExistsError, firebase_admin.exceptions.ConflictError):
        # Enqueued before, by an earlier try of the same step. Cloud Tasks answers 409
        # ALREADY_EXISTS; the Tasks emulator's plain-text 409 maps to ConflictError.
        pass
    except ValueError as error:
        # The Tasks emulator echoes a named task's name without the leading "/" that
        # firebase-admin then strips, so parsing the (successful) reply fails.
        if not (running_on_emulators() and task_id and "resource name" in str(error)):
            raise


def task_queue_path(queue: str, region: str) -> str:
    """The queue of task-queue function `queue` in `region` (REGION, where main.py deploys every
    function); the Admin SDK would otherwise assume us-central1, deployed and on the emulator."""
    return f"locations/{region}/functions/{queue}"
