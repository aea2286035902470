"""`./dev exec` itself: every emulator reachable, CMD's exit status kept, nothing left behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

from tools import devstack

ROOT = Path(__file__).resolve().parents[2]


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MEDIAJOBS_PORT_BASE"}
    env["MEDIAJOBS_SKIP_SETUP"] = "1"
    return env


def probe_in_a_stack(exit_status: int, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """tools/probe_stack.py (which writes to every emulator, Storage too) in a stack of its own
    whose work folder goes under tmp_path."""
    return subprocess.run(
        [str(ROOT / "dev"), "exec", "--", "python", "tools/probe_stack.py", "--exit", str(exit_status)],
        cwd=ROOT,
        check=False,
        env=clean_env() | {"TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def test_dev_exec_reaches_every_emulator_keeps_the_exit_status_and_leaves_nothing(tmp_path: Path) -> None:
    run = probe_in_a_stack(7, tmp_path)

    assert run.returncode == 7, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert all(report[name] for name in ("GCLOUD_PROJECT", "STORAGE_BUCKET", "FUNCTIONS_ORIGIN")), report
    assert report["STORAGE_EMULATOR_HOST"].startswith("http://127.0.0.1:")
    assert {k: report[k] for k in ("firestore", "auth", "storage", "functions", "hosting")} == dict.fromkeys(
        ("firestore", "auth", "storage", "functions", "hosting"), True
    )
    assert report["marker"], "the command did not run inside the stack"
    assert devstack.marked_pids(str(report["marker"])) == []
    # A failed run keeps its logs for a look, not the Storage emulator's objects.
    [workdir] = tmp_path.glob("mediajobs-dev-*")
    assert f"emulator log: {workdir / 'emulators.log'}" in run.stderr
    assert (workdir / "emulators.log").stat().st_size > 0
    assert not (workdir / "storage").exists()


def test_a_run_that_went_well_leaves_no_work_folder(tmp_path: Path) -> None:
    """Every ./dev exec made a folder in /tmp and left it, with the Storage emulator's objects
    (2.4-2.7 GB after make test): 277 of them filled this machine's disk on 2026-12-03."""
    run = probe_in_a_stack(0, tmp_path)

    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1])["storage"] is True
    assert list(tmp_path.glob("mediajobs-dev-*")) == []


def test_dev_exec_fails_clearly_when_a_port_is_taken() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = clean_env() | {"MEDIAJOBS_PORT_BASE": str(port)}
        run = subprocess.run(
            [str(ROOT / "dev"), "exec", "--", "true"],
            cwd=ROOT,
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    assert run.returncode != 0
    assert f"ports already in use: auth={port}" in run.stderr
    assert "MEDIAJOBS_PORT_BASE" in run.stderr
