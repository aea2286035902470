"""What the job engine costs: listener latency from a write to a client's on_snapshot
callback, and Firestore writes and round trips per job item (the cost driver).

Writes are counted by mediajobs.rpc_meter in every worker process (MEDIAJOBS_RPC_LOG, which
`make bench` sets before the stack starts)."""

from __future__ import annotations

import collections
import dataclasses
import os
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import Row
from mediajobs import cloud, rpc_meter
from mediajobs.cli import client

LATENCY_SAMPLES = 100


def listener_latency() -> tuple[list[float], list[float]]:
    """Seconds from the start of each write to the listener seeing it, and each write's own round trip."""
    ref = cloud.db().collection("bench_latency").document(uuid.uuid4().hex)
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


@dataclasses.dataclass
class Metered:
    calls: collections.Counter[str]
    writes: int
    reads: int


def metered(run: Any) -> Metered:
    """RPCs by method, documents written and documents read while `run()` runs, in every process."""
    log = Path(os.environ[rpc_meter.ENV_VAR])
    log.write_bytes(b"")
    run()
    time.sleep(2)  # the last worker lines land after the job document says completed
    result = Metered(collections.Counter(), 0, 0)
    for line in log.read_text().splitlines():
        _pid, method, writes, *reads = line.split()
        result.calls[method] += 1
        result.writes += int(writes)
        result.reads += int(reads[0]) if reads else 0
    return result


def selftest_job(user: client.User, items: int) -> None:
    """A selftest job whose items do nothing of their own: every operation counted is the engine's."""
    job = client.call("start_job", {"type": "selftest", "input": {"items": items, "engine_only": True}}, user.id_token)
    final, _ = client.watch_job(job["job_id"], timeout=1800)
    assert final["status"] == "completed" and final["progress"]["done"] == items, final


OPERATIONS_TARGET = "<= 6"  # billed Firestore operations (document reads + writes) per item


def run(quick: bool = False) -> list[Row]:
    latencies, writes = listener_latency()
    rows = [
        Row("listener latency, write -> on_snapshot p50", statistics.median(latencies) * 1000, "ms",
            statistics.median(writes) * 1000, "the write itself p50"),
        Row("listener latency, write -> on_snapshot p95", p95(latencies) * 1000, "ms",
            p95(writes) * 1000, "the write itself p95"),
    ]  # fmt: skip
    if not os.environ.get(rpc_meter.ENV_VAR):
        print(f"(operations per item not measured: set {rpc_meter.ENV_VAR} before ./dev exec, as `make bench` does)")
        return rows
    user = client.sign_up(f"bench-{uuid.uuid4().hex[:8]}@example.com")
    selftest_job(user, 5)  # warm workers
    small, large = (200, 2_000) if quick else (1_000, 20_000)
    measured = {items: metered(lambda items=items: selftest_job(user, items)) for items in (small, large)}
    for items, m in measured.items():
        rows.append(Row(f"Firestore writes per item, selftest x{items}", m.writes / items, "doc"))
        rows.append(Row(f"Firestore reads per item, selftest x{items}", m.reads / items, "doc"))
        rows.append(Row(f"Firestore round trips per item, selftest x{items}", sum(m.calls.values()) / items, "rpc"))
    per_item = {items: (m.writes + m.reads) / items for items, m in measured.items()}
    rows.append(Row(f"billed operations per item, selftest x{small}", per_item[small], "op", target=OPERATIONS_TARGET))
    rows.append(
        Row(f"billed operations per item, selftest x{large}", per_item[large], "op",
            per_item[small], f"per item at x{small}", target="<= 1.1")
    )  # fmt: skip
    return rows
