"""The pure parts of the local stack runner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tools import devstack


def test_ports_come_in_a_free_block_of_distinct_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIAJOBS_PORT_BASE", raising=False)
    ports = devstack.choose_ports()
    assert len(set(ports.values())) == len(devstack.PORT_OFFSETS)
    assert max(ports.values()) - min(ports.values()) == devstack.PORT_BLOCK - 1
    assert all(devstack.port_is_free(p) for p in ports.values())


def test_an_explicit_base_with_a_taken_port_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        base = holder.getsockname()[1] - devstack.PORT_OFFSETS["functions"]
        monkeypatch.setenv("MEDIAJOBS_PORT_BASE", str(base))
        with pytest.raises(SystemExit) as raised:
            devstack.choose_ports()
    assert f"functions={base + devstack.PORT_OFFSETS['functions']}" in str(raised.value)


def test_marked_processes_are_found_and_ended() -> None:
    marker = "unit-test-marker"
    env = dict(os.environ, **{devstack.MARKER_VAR: marker})
    # A child that detaches into its own session, like a leaked functions-framework worker.
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env, start_new_session=True)
    try:
        assert proc.pid in devstack.marked_pids(marker)
        assert devstack.end_processes([], marker) == []
        assert proc.wait(timeout=10) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
