"""Photo batch throughput through the whole stack against a bare rembg loop in one process,
and the time from job creation to the first processed item (cold model load included)."""

from __future__ import annotations

import io
import os
import time
import uuid

from bench.common import PASSES, Row, median_pair
from mediajobs import platform
from mediajobs.cli import client

PHOTOS = ("astronaut", "coffee", "chelsea")


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


def bare_loop(batch: list[bytes]) -> float:
    """The baseline: one process, `rembg.remove(session=u2netp)` over the decoded images."""
    from PIL import Image

    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")  # as in the workers: no matting, no compile
    from rembg import new_session, remove

    session = new_session("u2netp")
    decoded = [Image.open(io.BytesIO(b)).convert("RGB") for b in batch]
    remove(decoded[0], session=session)  # warm: the model load is not throughput
    start = time.perf_counter()
    for image in decoded:
        remove(image, session=session)
    return time.perf_counter() - start


def through_the_stack(user: client.User, batch: list[bytes]) -> tuple[float, float]:
    paths = []
    for index, data in enumerate(batch):
        path = f"users/{user.uid}/bench/{index:03d}.jpg"
        platform.bucket().blob(path).upload_from_string(data, content_type="image/jpeg")
        paths.append(path)
    start = time.perf_counter()
    job = client.call("start_job", {"type": "photo_batch", "input": {"paths": paths}}, user.id_token)
    first: list[float] = []

    def on_change(doc: dict[str, object]) -> None:
        progress = doc.get("progress")
        if not first and isinstance(progress, dict) and progress.get("done", 0):
            first.append(time.perf_counter() - start)

    final, _ = client.watch_job(job["job_id"], on_change, timeout=1800)
    assert final["status"] == "completed" and final["result"]["succeeded"] == len(batch), final
    return time.perf_counter() - start, first[0] if first else float("nan")


def run(quick: bool = False) -> list[Row]:
    user = client.sign_up(f"bench-{uuid.uuid4().hex[:8]}@example.com")
    count, side = (8, 512) if quick else (24, 1024)
    batch = images(count, side)
    _, first_item = through_the_stack(user, batch[:2])  # the run's first job: cold worker, model load
    through_the_stack(user, batch[:8])  # two chunks at once: both workers warm before measuring
    pairs = [(through_the_stack(user, batch)[0], bare_loop(batch)) for _ in range(1 if quick else PASSES)]
    print(f"photo pairs (stack s, bare s): {[(round(a, 2), round(b, 2)) for a, b in pairs]}")
    stack_seconds, bare_seconds = median_pair(pairs)
    return [
        Row(
            f"photo batch {count}x{side}px vs bare rembg loop",
            count / stack_seconds,
            "img/s",
            count / bare_seconds,
            "bare remove() loop",
            ">= 1.15",
        ),
        Row("photo job created -> first item done", first_item, "s"),
    ]
