"""Where a job's wall time goes, read back from its documents, and what the Storage emulator
spends per request: the two figures that bound the export and photo rows of `make bench` here.

    MEDIAJOBS_STORAGE_LATENCY_MS=20 ./dev exec -- python -m bench.job_timeline [--passes N]

For each pass of the bench's export (60 users x 5 files x 400 KB, Storage 20 ms away when the
proxy runs) and photo batch (24 photos of 1024 x 1024), on warm workers: seconds from the job's
creation to its first item's start, to its first and last settle, to `finished_at`. Items run
back to back between those marks, so the span from first start to last settle is the stack
working; what lies outside it is a job's fixed cost. Beside them, the CPU each part of the
stack spent during the job (`bench.common.stack_cpu`). Then the Storage emulator's CPU per
2 MB multipart upload, 2 MB resumable upload and 2 MB download (`stack_cpu` again), which no
code of ours spends but which shares the two cores (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench import export_bench, photo_bench
from bench.common import cpu_by_group, stack_cpu, storage_delay, storage_latency_ms, wait_for_quiet
from mediajobs import cloud
from mediajobs.cli import client

STORAGE_EMULATOR = "fake-gcs (Storage)"  # its group in `bench.common.stack_cpu`


def timeline(job_id: str, called_at: float, seen_at: float) -> str:
    """One finished job's marks, in seconds after its creation."""
    ref = cloud.db().collection("jobs").document(job_id)
    job = ref.get().to_dict() or {}
    created = job["created_at"].timestamp()
    spans = []
    for snap in ref.collection("items").stream():
        settled = snap.update_time.timestamp()
        spans.append((settled - (snap.to_dict() or {}).get("duration_ms", 0) / 1000, settled))
    starts, settles = sorted(s for s, _ in spans), sorted(e for _, e in spans)
    item = statistics.median(e - s for s, e in spans)
    return (
        f"first item starts {starts[0] - created:.2f}, first settle {settles[0] - created:.2f}, "
        f"last settle {settles[-1] - created:.2f}, finished {job['finished_at'].timestamp() - created:.2f}, "
        f"seen by the caller {seen_at - created:.2f} (called {created - called_at:+.2f}); median item {item:.3f} s"
    )


def run_job(user: client.User, job_type: str, input: dict[str, Any]) -> str:
    """Runs a job to its end: its marks, and the CPU each part of the stack spent meanwhile."""
    before, called = stack_cpu(), time.time()
    job = client.call("start_job", {"type": job_type, "input": input}, user.id_token)
    final, _ = client.watch_job(job["job_id"], timeout=900)
    seen = time.time()
    assert final["status"] == "completed", final
    return f"{timeline(job['job_id'], called, seen)}\n  CPU-s: {cpu_by_group(before, stack_cpu())}"


def export_passes(passes: int) -> None:
    admin = client.sign_up(f"timeline-{uuid.uuid4().hex[:8]}@example.com", admin=True)
    user_ids, _, _ = export_bench.seed(60, 5, 400_000, f"t{uuid.uuid4().hex[:6]}")
    warm_ids, _, _ = export_bench.seed(4, 1, 1000, f"w{uuid.uuid4().hex[:6]}")
    run_job(admin, "media_export", {"user_ids": warm_ids})
    latency = storage_latency_ms()
    with storage_delay(latency or 0):
        for number in range(passes):
            wait_for_quiet()
            marks = run_job(admin, "media_export", {"user_ids": user_ids})
            print(f"export, Storage {latency or 0:g} ms away, pass {number + 1}: {marks}", flush=True)


def photo_passes(passes: int) -> None:
    user = client.sign_up(f"timeline-{uuid.uuid4().hex[:8]}@example.com")
    batch = photo_bench.images(24, 1024)
    photo_bench.through_the_stack(user, batch[:8])  # both workers warm, the model loaded
    for number in range(passes):
        paths = []
        for index, data in enumerate(batch):
            path = f"users/{user.uid}/timeline/{number}-{index:03d}.jpg"
            cloud.bucket().blob(path).upload_from_string(data, content_type="image/jpeg")
            paths.append(path)
        wait_for_quiet()
        print(f"photos, pass {number + 1}: {run_job(user, 'photo_batch', {'paths': paths})}", flush=True)


def storage_costs(count: int = 60, size: int = 2_000_000) -> None:
    bucket, data, folder = cloud.bucket(), os.urandom(size), f"timeline/{uuid.uuid4().hex[:6]}"

    def resumable(index: int) -> None:
        with bucket.blob(f"{folder}/r{index}").open("wb", chunk_size=4 * 2**20, content_type="application/zip") as out:
            out.write(data)

    requests: dict[str, Callable[[int], object]] = {
        "multipart upload": lambda i: bucket.blob(f"{folder}/m{i}").upload_from_string(data, "application/zip"),
        "resumable upload": resumable,
        "download": lambda i: bucket.blob(f"{folder}/m{i}").download_as_bytes(),
    }
    for name, request in requests.items():
        wait_for_quiet()
        before = stack_cpu()  # this run's processes: its Storage emulator, not another stack's
        for index in range(count):
            request(index)
        each = cpu_by_group(before, stack_cpu()).get(STORAGE_EMULATOR, 0.0) / count * 1000
        print(f"Storage emulator, {name} of {size / 1e6:g} MB: {each:.1f} ms CPU each ({count} requests)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.job_timeline")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args(argv)
    export_passes(args.passes)
    photo_passes(args.passes)
    storage_costs()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
