"""What the job engine costs: listener latency from a write to a client's on_snapshot
callback, and Firestore writes and round trips per job item (the cost driver).

Writes are counted by mediajobs.rpc_meter in every worker process (MEDIAJOBS_RPC_LOG, which
`make bench` sets before the stack starts)."""

from __future__ import annotations

import collections
import os
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import Row
from mediajobs import platform, rpc_meter
from mediajobs.cli import client

LATENCY_SAMPLES = 100


def listener_latency() -> tuple[list[float], list[float]]:
    """Seconds from the start of each write to the listener seeing it, and each write's own round trip."""
    ref = platform.db().collection("bench_latency").document(uuid.uuid4().hex)
    ref.set({"seq": -1})
    seen: dict[int, float] = {}
    arrived = threading.Condition()

    def on_snapshot(docs: list[Any], _changes: Any, _read_time: Any) -> None:
        for doc in docs:
            seq = int((doc.to_dict() or {}).get("seq", -1))
            with arrived:
                seen.setdefault(seq, time.perf_counter())
                arrived.notify_all()

    watch = ref.on_snapshot(on_snapshot)
    try:
        with arrived:
            arrived.wait_for(lambda: -1 in seen, timeout=30)
        latencies, writes = [], []
        for seq in range(LATENCY_SAMPLES):
            start = time.perf_counter()
            ref.set({"seq": seq})
            writes.append(time.perf_counter() - start)
            with arrived:
                arrived.wait_for(lambda s=seq: s in seen, timeout=30)  # type: ignore[misc]
            latencies.append(seen[seq] - start)
            time.sleep(0.02)
    finally:
        watch.unsubscribe()
    return latencies, writes


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def metered(run: Any) -> tuple[collections.Counter[str], int]:
    """RPC counts by method and documents written while `run()` runs, in every process."""
    log = Path(os.environ[rpc_meter.ENV_VAR])
    log.write_bytes(b"")
    run()
    time.sleep(2)  # the last worker lines land after the job document says completed
    calls: collections.Counter[str] = collections.Counter()
    writes = 0
    for line in log.read_text().splitlines():
        _pid, method, count = line.split()
        calls[method] += 1
        writes += int(count)
    return calls, writes


def selftest_job(user: client.User, items: int) -> None:
    job = client.call("start_job", {"type": "selftest", "input": {"items": items}}, user.id_token)
    final, _ = client.watch_job(job["job_id"], timeout=600)
    assert final["status"] == "completed" and final["progress"]["done"] == items, final


def run(quick: bool = False) -> list[Row]:
    latencies, writes = listener_latency()
    rows = [
        Row("listener latency, write -> on_snapshot p50", statistics.median(latencies) * 1000, "ms",
            statistics.median(writes) * 1000, "the write itself p50"),
        Row("listener latency, write -> on_snapshot p95", p95(latencies) * 1000, "ms",
            p95(writes) * 1000, "the write itself p95"),
    ]  # fmt: skip
    if not os.environ.get(rpc_meter.ENV_VAR):
        print(f"(writes per item not measured: set {rpc_meter.ENV_VAR} before ./dev exec, as `make bench` does)")
        return rows
    user = client.sign_up(f"bench-{uuid.uuid4().hex[:8]}@example.com")
    selftest_job(user, 5)  # warm workers
    items = 50 if quick else 200
    calls, written = metered(lambda: selftest_job(user, items))
    rows.append(Row(f"Firestore writes per item, selftest x{items}", written / items, "doc"))
    rows.append(Row(f"Firestore round trips per item, selftest x{items}", sum(calls.values()) / items, "rpc"))
    return rows
