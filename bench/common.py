"""Benchmark rows and process measurements shared by the suites."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tools.devstack import MARKER_VAR, pids_with_env


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""  # e.g. ">= 0.7" (ratio value/baseline) or "<= 200" (value itself)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def meets_target(self) -> bool:
        if not self.target:
            return True
        op, number = self.target.split()
        measured = self.ratio if self.ratio is not None else self.value
        return measured >= float(number) if op == ">=" else measured <= float(number)

    @property
    def verdict(self) -> str:
        if not self.target:
            return "reported"
        return "met" if self.meets_target else "NOT MET"

    def as_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "ratio": self.ratio,
            "meets_target": self.meets_target,
            "verdict": self.verdict,
        }


PASSES = 5  # a measured path and its baseline alternate this many times (--quick: once); the median counts


def median_pair(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """The (ours, baseline) pair of seconds whose ratio baseline/ours is the median: one pass
    varies by +-15% on a shared 2-core machine, and alternating passes keep a slow spell from
    landing on one side only."""
    return sorted(pairs, key=lambda pair: pair[1] / pair[0])[len(pairs) // 2]


def print_table(rows: list[Row]) -> None:
    print(f"\n{'benchmark':58} {'value':>16} {'baseline':>28} {'ratio':>6} {'target':>8}  verdict")
    for row in rows:
        base = f"{row.baseline:,.2f} {row.baseline_name}"[:28] if row.baseline else ""
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
        print(
            f"{row.name:58} {row.value:>10,.2f} {row.unit:>5} {base:>28} {ratio:>6} {row.target or '-':>8}  "
            f"{row.verdict}"
        )


def worker_pids(function: str) -> list[int]:
    """The functions-framework workers this run's emulator started for `function` (not those
    of another ./dev stack on the same machine)."""
    pids = pids_with_env("FUNCTION_TARGET", function)
    marker = os.environ.get(MARKER_VAR)
    return sorted(set(pids) & set(pids_with_env(MARKER_VAR, marker))) if marker else pids


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU-seconds each process has used so far (gone ones are left out)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (stat fields 14, 15)
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU-seconds between two `cpu_by_pid` readings; a process started in between counts from 0."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


STORAGE_PROXY_VAR = "MEDIAJOBS_STORAGE_PROXY"  # set by ./dev when MEDIAJOBS_STORAGE_LATENCY_MS is
STORAGE_LATENCY_VAR = "MEDIAJOBS_STORAGE_LATENCY_MS"


def storage_latency_ms() -> float | None:
    """The delay per Storage request of the latency regime, or None without the proxy."""
    if not os.environ.get(STORAGE_PROXY_VAR):
        return None
    return float(os.environ.get(STORAGE_LATENCY_VAR) or 20)


@contextlib.contextmanager
def storage_delay(ms: float) -> Iterator[None]:
    """Every Storage request of the stack and of this process waits `ms` while inside; the
    proxy's delay is 0 again afterwards (a no-op without the proxy)."""
    from bench.latency_proxy import set_delay

    proxy = os.environ.get(STORAGE_PROXY_VAR)
    if not proxy:
        yield
        return
    set_delay(proxy, ms)
    try:
        yield
    finally:
        set_delay(proxy, 0)


def no_storage_delay() -> None:
    """Outside the latency passes, the proxy forwards at once (the no-latency regime)."""
    from bench.latency_proxy import set_delay

    if proxy := os.environ.get(STORAGE_PROXY_VAR):
        set_delay(proxy, 0)


def _group_of(pid: int) -> str | None:
    """Which part of the stack a process of this run is, by its environment and command line."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    marker = os.environ.get(MARKER_VAR, "").encode()
    if not marker or f"{MARKER_VAR}=".encode() + marker not in environ:
        return None
    if pid == os.getpid():
        return "bench (baselines)"
    for entry in environ:
        if entry.startswith(b"FUNCTION_TARGET="):
            return "functions: " + entry.split(b"=", 1)[1].decode()
    program = Path(command[0].decode(errors="replace")).name
    if program.startswith("fake-gcs-server"):
        return "fake-gcs (Storage)"
    if b"bench.latency_proxy" in command:
        return "latency proxy"
    if program == "java":
        return "java (Firestore)"
    if program == "node" or program.startswith("firebase"):
        return "node (emulators)"
    return "other: " + program


def stack_cpu() -> dict[int, tuple[str, float]]:
    """CPU-seconds so far of every process of this ./dev run, with its part of the stack."""
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    groups = {pid: group for pid in pids if (group := _group_of(pid))}
    used = cpu_by_pid(list(groups))
    return {pid: (groups[pid], seconds) for pid, seconds in used.items()}


def cpu_by_group(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU-seconds per part of the stack between two `stack_cpu` readings."""
    totals: dict[str, float] = {}
    for pid, (group, seconds) in after.items():
        totals[group] = totals.get(group, 0.0) + seconds - (before[pid][1] if pid in before else 0.0)
    return {group: round(seconds, 2) for group, seconds in sorted(totals.items()) if seconds >= 0.01}


def wait_for_quiet(window: float = 0.3, busy_share: float = 0.15, longest: float = 8.0) -> None:
    """Waits until this run's stack is idle (below `busy_share` of one core over `window`), so
    that what one measured pass leaves behind (a completion event's trigger, a worker's cold
    start) is not charged to the next one."""
    deadline = time.monotonic() + longest
    before = stack_cpu()
    while time.monotonic() < deadline:
        time.sleep(window)
        after = stack_cpu()
        busy = sum(cpu_by_group(before, after).values())
        if busy < busy_share * window:
            return
        before = after
