"""Photo batch throughput through the whole stack against a bare rembg loop in one process and
against rembg's own HTTP server (`rembg s`, the peer a user would run instead), with the CPU
the photo workers spend per photo, and the time from job creation to the first processed item
(cold model load included)."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import PASSES, Row, cpu_by_pid, cpu_used, median_pair, wait_for_quiet, worker_pids
from mediajobs import cloud
from mediajobs.cli import client
from tools import envfiles

PHOTOS = ("astronaut", "coffee", "chelsea")
MODEL = "u2netp"


def images(count: int, side: int) -> list[bytes]:
    from PIL import Image
    from skimage import data

    out = []
    for index in range(count):
        image = Image.fromarray(getattr(data, PHOTOS[index % 3])()).convert("RGB").resize((side, side))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=92)
        out.append(buffer.getvalue())
    return out


def bare_loop(batch: list[bytes]) -> tuple[float, float]:
    """The baseline: one process, `rembg.remove(session=u2netp)` over the decoded images
    (rembg's default session: onnxruntime's threads, two here). Seconds and CPU-seconds."""
    from PIL import Image

    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")  # as in the workers: no matting, no compile
    from rembg import new_session, remove

    session = new_session(MODEL)
    decoded = [Image.open(io.BytesIO(b)).convert("RGB") for b in batch]
    remove(decoded[0], session=session)  # warm: the model load is not throughput
    cpu, start = time.process_time(), time.perf_counter()
    for image in decoded:
        remove(image, session=session)
    return time.perf_counter() - start, time.process_time() - cpu


def through_the_stack(user: client.User, batch: list[bytes]) -> tuple[float, float, float]:
    """A photo_batch job with the defaults (background removed, no face crop, results.zip):
    seconds from start_job to completed, to the first item done, and the photo workers' CPU."""
    paths = []
    for index, data in enumerate(batch):
        path = f"users/{user.uid}/bench/{index:03d}.jpg"
        cloud.bucket().blob(path).upload_from_string(data, content_type="image/jpeg")
        paths.append(path)
    cpu_before = cpu_by_pid(worker_pids("photoitems"))
    start = time.perf_counter()
    job = client.call("start_job", {"type": "photo_batch", "input": {"paths": paths}}, user.id_token)
    first: list[float] = []

    def on_change(doc: dict[str, object]) -> None:
        progress = doc.get("progress")
        if not first and isinstance(progress, dict) and progress.get("done", 0):
            first.append(time.perf_counter() - start)

    final, _ = client.watch_job(job["job_id"], on_change, timeout=1800)
    assert final["status"] == "completed" and final["result"]["succeeded"] == len(batch), final
    elapsed = time.perf_counter() - start
    cpu = cpu_used(cpu_before, cpu_by_pid(worker_pids("photoitems")))
    return elapsed, first[0] if first else float("nan"), cpu


@contextlib.contextmanager
def rembg_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`rembg s` on a free loopback port, finding u2netp where the workers do (U2NET_HOME, set
    by ./dev). numba's JIT is off as in the workers (it only serves alpha matting, which neither
    side uses; with it on, the server's start compiles for minutes)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rembg = Path(sys.executable).with_name("rembg")
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "BROWSER": "true"}  # its start opens a browser
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [str(rembg), "s", "--no-ui", "--host", "127.0.0.1", "--port", str(port), "--log_level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"rembg s did not start: {log.read()[-2000:]!r}") from None
                time.sleep(0.2)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def through_the_peer(url: str, batch: list[bytes], clients: int) -> float:
    """`clients` concurrent clients POST the photos to rembg's server and write each cutout to disk."""
    import requests

    local = threading.local()

    with tempfile.TemporaryDirectory(prefix="bench-peer-") as folder:

        def cut_out(numbered: tuple[int, bytes]) -> None:
            index, data = numbered
            if not hasattr(local, "session"):
                local.session = requests.Session()
            response = local.session.post(
                f"{url}/api/remove",
                files={"file": (f"{index:03d}.jpg", data, "image/jpeg")},
                data={"model": MODEL},
                timeout=600,
            )
            response.raise_for_status()
            assert response.content.startswith(b"\x89PNG"), response.content[:64]
            (Path(folder) / f"{index:03d}.png").write_bytes(response.content)

        start = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(cut_out, enumerate(batch)))
        return time.perf_counter() - start


def photo_workers() -> int:
    """How many photo workers the stack runs at once here (the photo queue's concurrency)."""
    project = os.environ.get("GCLOUD_PROJECT", "demo-mediajobs")
    return int(envfiles.project_params(project, emulator=True).get("PHOTO_QUEUE_MAX_CONCURRENCY", "2"))


def run(quick: bool = False) -> list[Row]:
    user = client.sign_up(f"bench-{uuid.uuid4().hex[:8]}@example.com")
    count, side = (8, 512) if quick else (24, 1024)
    batch = images(count, side)
    _, first_item, _ = through_the_stack(user, batch[:2])  # the run's first job: cold worker, model load
    through_the_stack(user, batch[:8])  # two chunks at once: both workers warm before measuring
    clients = photo_workers()
    stack, bare, peer = [], [], []
    with rembg_server() as (url, server):
        through_the_peer(url, batch[:1], 1)  # its first request loads the model
        through_the_peer(url, batch[: clients * 2], clients)
        peer_cpu = 0.0
        for _ in range(1 if quick else PASSES):  # the three alternate
            wait_for_quiet()
            stack.append(through_the_stack(user, batch))
            wait_for_quiet()
            bare.append(bare_loop(batch))
            wait_for_quiet()
            before = cpu_by_pid([server.pid])
            peer.append(through_the_peer(url, batch, clients))
            peer_cpu += cpu_used(before, cpu_by_pid([server.pid]))
    passes = len(stack)
    timings = [(round(s[0], 2), round(b[0], 2), round(p, 2)) for s, b, p in zip(stack, bare, peer, strict=True)]
    print(f"photo passes (stack s, bare s, rembg s s): {timings}")
    per_photo = [(round(s[2] / count, 3), round(b[1] / count, 3)) for s, b in zip(stack, bare, strict=True)]
    print(f"photo CPU-s per photo (workers, bare loop): {per_photo}")
    stack_vs_bare, bare_seconds = median_pair([(s[0], b[0]) for s, b in zip(stack, bare, strict=True)])
    stack_vs_peer, peer_seconds = median_pair([(s[0], p) for s, p in zip(stack, peer, strict=True)])
    worker_cpu = sorted(s[2] for s in stack)[passes // 2] / count
    first_warm = sorted(s[1] for s in stack)[passes // 2]  # the model already loaded in both workers
    bare_cpu = sorted(b[1] for b in bare)[passes // 2] / count
    return [
        Row(f"photo batch {count}x{side}px vs bare rembg loop", count / stack_vs_bare, "img/s",
            count / bare_seconds, "bare remove() loop", ">= 1.1"),
        Row(f"photo batch {count}x{side}px vs rembg s, {clients} clients", count / stack_vs_peer, "img/s",
            count / peer_seconds, "rembg s server", ">= 1.5"),
        Row("photo CPU per photo, workers vs bare loop", worker_cpu, "CPU-s", bare_cpu, "CPU-s bare loop"),
        Row("photo CPU per photo, rembg s server", peer_cpu / passes / count, "CPU-s"),
        Row("photo job created -> first item done, warm stack", first_warm, "s", target="<= 2.0"),
        Row("photo job created -> first item done, cold worker", first_item, "s"),
    ]  # fmt: skip
