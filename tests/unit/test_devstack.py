"""The pure parts of the local stack runner."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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
        deadline = time.monotonic() + 10  # between fork and exec the child still has our environment
        while proc.pid not in devstack.marked_pids(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.pid in devstack.marked_pids(marker)
        assert devstack.end_processes([], marker) == []
        assert proc.wait(timeout=10) != 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_emulators_get_the_preload_after_any_node_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=4096")
    env = devstack.stack_environment(devstack.choose_ports(), "m", tmp_path)
    preload = devstack.ROOT / "tools" / "emulators_preload.cjs"
    assert env["NODE_OPTIONS"] == f'--max-old-space-size=4096 --require "{preload}"'


PROBE = """
const http = require("http");
const { TaskQueueController } = require(process.argv[2]);
console.log(JSON.stringify({ keepAlive: http.globalAgent.keepAlive, poll: TaskQueueController.LISTEN_TIMEOUT }));
"""


@pytest.mark.skipif(not (devstack.ROOT / "node_modules" / "firebase-tools").is_dir(), reason="needs npm ci (setup)")
def test_the_preload_turns_keep_alive_off_and_shortens_the_tasks_emulators_poll(tmp_path: Path) -> None:
    """Against the pinned firebase-tools: a rename upstream would leave the poll at 1000 ms."""
    probe = tmp_path / "firebase-probe.js"  # the preload acts in processes whose script says firebase
    probe.write_text(PROBE)
    tasks = devstack.ROOT / "node_modules" / "firebase-tools" / "lib" / "emulator" / "tasksEmulator.js"
    preload = devstack.ROOT / "tools" / "emulators_preload.cjs"
    out = subprocess.run(
        ["node", "--require", str(preload), str(probe), str(tasks)], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {"keepAlive": False, "poll": 50}
    assert "left as is" not in out.stderr


SCHEDULE_PROBE = """
const { TaskQueue } = require(process.argv[2]);
const config = { rateLimits: { maxDispatchesPerSecond: 100, maxConcurrentDispatches: 10 }, defaultUri: "http://x" };
const queue = new TaskQueue("queue:probe", config);
const task = (name, scheduleTime) => ({ name, scheduleTime, httpRequest: { url: "", body: {}, headers: {} } });
const later = new Date(Date.now() + 400).toISOString().replace("Z", "123Z");  // as the Admin SDK writes it
queue.enqueue(task("now", undefined));
queue.enqueue(task("later", later));
queue.enqueue(task("dropped", later));
let duplicate = false;
try { queue.enqueue(task("later", undefined)); } catch (error) { duplicate = true; }
queue.delete("dropped");
const seen = { atOnce: queue.queue.size(), duplicate };
setTimeout(() => {
  seen.after = queue.queue.size();
  queue.queue.dequeue();
  seen.next = queue.queue.dequeue().task.name;
  console.log(JSON.stringify(seen));
}, 700);
"""


@pytest.mark.skipif(not (devstack.ROOT / "node_modules" / "firebase-tools").is_dir(), reason="needs npm ci (setup)")
def test_the_preload_holds_a_scheduled_task_until_its_time(tmp_path: Path) -> None:
    """Cloud Tasks delivers a task at its scheduleTime (the safety-net plan task, 90 s after
    the job started); the pinned Tasks emulator queued it at once."""
    probe = tmp_path / "firebase-probe.js"
    probe.write_text(SCHEDULE_PROBE)
    queue = devstack.ROOT / "node_modules" / "firebase-tools" / "lib" / "emulator" / "taskQueue.js"
    preload = devstack.ROOT / "tools" / "emulators_preload.cjs"
    out = subprocess.run(
        ["node", "--require", str(preload), str(probe), str(queue)], capture_output=True, text=True, check=True
    )
    # Queued at once: only the unscheduled task; the name of a held one is taken; a deleted
    # held task never arrives, the other one does at its time.
    assert json.loads(out.stdout) == {"atOnce": 1, "duplicate": True, "after": 2, "next": "later"}
    assert "still run at once" not in out.stderr
