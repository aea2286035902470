"""Fault tests that need a stack of their own: `make test-faults` runs them with the project
`demo-mediajobs-faults`, whose params (functions/.env.demo-mediajobs-faults) give the
functions a small temp disk and a Replicate endpoint served by tests/fake_replicate.py."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

PROJECT = "demo-mediajobs-faults"
PARAMS_FILE = Path(__file__).resolve().parents[2] / "functions" / f".env.{PROJECT}"
TEMP_DISK_MB = 4


def project_param(name: str) -> str:
    for line in PARAMS_FILE.read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} is not set in {PARAMS_FILE}")


TEMP_DIR = Path(project_param("TMPDIR"))  # the functions' tempfile.gettempdir()
REPLICATE_PORT = urlsplit(project_param("REPLICATE_BASE_URL")).port or 80


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("GCLOUD_PROJECT") == PROJECT:
        return
    skip = pytest.mark.skip(reason=f"needs the {PROJECT} stack: run `make test-faults`")
    for item in items:
        if "/faults/" in str(item.fspath):
            item.add_marker(skip)


def _mounted(path: Path) -> bool:
    return any(line.split()[1] == str(path) for line in Path("/proc/mounts").read_text().splitlines())


@pytest.fixture(scope="session", autouse=True)
def small_temp_disk() -> Iterator[Path]:
    """A tmpfs of TEMP_DISK_MB at the functions' TMPDIR, mounted before any of them runs.

    Mounted here rather than by `make` so that a worker never starts before it and quietly
    falls back to /tmp (tempfile skips a TMPDIR that does not exist)."""
    TEMP_DIR.mkdir(parents=True, exist_ok=True)
    if not _mounted(TEMP_DIR):
        mount = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TEMP_DISK_MB}m,mode=1777", "tmpfs", str(TEMP_DIR)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if mount.returncode != 0:
            pytest.fail(f"could not mount a {TEMP_DISK_MB} MB tmpfs at {TEMP_DIR} (root needed): {mount.stderr}")
    try:
        yield TEMP_DIR
    finally:
        subprocess.run(["umount", "--lazy", str(TEMP_DIR)], check=False)
