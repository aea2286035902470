"""Where one photo's time goes: rembg's `remove()` split into its stages, our encode, and the
model's own operators. No stack needed; one onnxruntime thread (as in each photo worker).

    functions/venv/bin/python -m bench.photo_stages [--threads N] [--images N]

(run from the repository root; U2NET_HOME defaults to functions/models). It answers how much of
a photo is spent outside the model, which bounds what any pre- or post-processing can save
(docs/PERFORMANCE.md, "Photos: the model is the photo").
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEAN, STD, SIDE = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), (320, 320)  # rembg's u2netp input


def per_image_ms(images: list[Any], step: Callable[[Any], object], rounds: int = 2) -> float:
    """The fastest of `rounds` passes over the images, in ms per image."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for image in images:
            step(image)
        best = min(best, (time.perf_counter() - start) / len(images) * 1000)
    return best


def stages(threads: int, count: int) -> dict[str, float]:
    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")  # as in the workers
    os.environ.setdefault("U2NET_HOME", str(ROOT / "functions" / "models"))
    sys.path.insert(0, str(ROOT / "functions"))
    import numpy as np
    import onnxruntime
    from PIL import Image
    from rembg import new_session, remove

    from bench.photo_bench import MODEL, images
    from mediajobs.photos.processing import encode

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = new_session(MODEL, sess_opts=options, providers=["CPUExecutionProvider"])
    decoded = [Image.open(io.BytesIO(data)).convert("RGB") for data in images(count, 1024)]
    remove(decoded[0], session=session)  # warm
    model_input = session.normalize(decoded[0], MEAN, STD, SIDE)
    raw = session.inner_session.run(None, model_input)[0][:, 0, :, :]
    cutout = remove(decoded[0], session=session)

    def mask_of(image: Any) -> Any:
        low, high = raw.min(), raw.max()
        pred = np.squeeze((raw - low) / (high - low))
        small = Image.fromarray((pred.clip(0, 1) * 255).astype("uint8"), mode="L")
        return small.resize(image.size, Image.Resampling.LANCZOS)

    mask = mask_of(decoded[0])
    return {
        "remove() whole": per_image_ms(decoded, lambda image: remove(image, session=session)),
        "  normalize (LANCZOS to 320, scale)": per_image_ms(
            decoded, lambda image: session.normalize(image, MEAN, STD, SIDE)
        ),
        "  model (onnxruntime run)": per_image_ms(decoded, lambda _: session.inner_session.run(None, model_input)),
        "  mask back to full size": per_image_ms(decoded, mask_of),
        "  cutout (naive composite)": per_image_ms(
            decoded, lambda image: Image.composite(image, Image.new("RGBA", image.size, 0), mask)
        ),
        "our PNG encode of the cutout": per_image_ms(decoded, lambda _: encode(cutout, "png")),
    }


def operators(threads: int, runs: int = 5) -> list[tuple[str, float]]:
    """onnxruntime's own profile of the model: ms per run by operator type."""
    import numpy as np
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(tempfile.mkdtemp()) / "ort")
    model = Path(os.environ.get("U2NET_HOME", ROOT / "functions" / "models")) / "u2netp.onnx"
    session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.random.default_rng(0).random((1, 3, *SIDE), dtype=np.float32)}
    for _ in range(runs):
        session.run(None, feed)
    events = json.loads(Path(session.end_profiling()).read_text())
    by_op: collections.Counter[str] = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            by_op[event["args"].get("op_name", "?")] += event["dur"]
    return [(op, micros / runs / 1000) for op, micros in by_op.most_common()]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.photo_stages")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--images", type=int, default=6)
    args = parser.parse_args(argv)
    measured = stages(args.threads, args.images)
    whole = measured["remove() whole"]
    print(f"u2netp, 1024x1024 images, {args.threads} onnxruntime thread(s): ms per image")
    for name, ms in measured.items():
        print(f"  {name:40s} {ms:7.1f}  {100 * ms / whole:5.1f}% of remove()")
    ops = operators(args.threads)
    total = sum(ms for _, ms in ops)
    print("the model's operators (onnxruntime profile), ms per run")
    for op, ms in ops:
        print(f"  {op:40s} {ms:7.1f}  {100 * ms / total:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
