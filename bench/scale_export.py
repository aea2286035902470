"""A media export over many users on the local stack, for docs/SCALING.md: wall time,
users per second, Firestore writes and round trips per user, tasks, job document size.

    make scale-export SCALE_USERS=10000      (or inside ./dev exec: python -m bench.scale_export)
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import math
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.engine_bench import metered
from mediajobs import cloud, rpc_meter
from mediajobs.cli import client
from mediajobs.exports.kind import MediaExportJob


def seed(users: int, prefix: str) -> list[str]:
    """`users` users with one image and one voice memo each (small files: this measures the engine)."""
    db, bucket = cloud.db(), cloud.bucket()
    ids = [f"{prefix}-{n:06d}" for n in range(users)]
    with ThreadPoolExecutor(8) as pool, tqdm(total=users, desc="seeding users", unit="user") as bar:

        def one(user_id: str) -> None:
            bucket.blob(f"scale/{user_id}/a.jpg").upload_from_string(b"\xff\xd8" + os.urandom(2048), "image/jpeg")
            bucket.blob(f"scale/{user_id}/v.wav").upload_from_string(b"RIFF" + os.urandom(2048), "audio/wav")
            bar.update()

        for start in range(0, users, 150):
            chunk = ids[start : start + 150]
            batch = db.batch()
            for user_id in chunk:
                user = {"email": f"{user_id}@scale.test", "imageIds": [f"{user_id}-i"], "voiceIds": [f"{user_id}-v"]}
                batch.set(db.collection("email_users").document(user_id), user)
                for collection, suffix, name, kind in (
                    ("images", "i", "a.jpg", "image/jpeg"),
                    ("voices", "v", "v.wav", "audio/wav"),
                ):
                    meta = {"storage_path": f"scale/{user_id}/{name}", "filename": name, "content_type": kind}
                    batch.set(db.collection(collection).document(f"{user_id}-{suffix}"), meta)  # fmt: skip
            batch.commit()
            list(pool.map(one, chunk))
    return ids


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_export")
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args(argv)
    seed(args.users, f"s{uuid.uuid4().hex[:6]}")  # a fresh stack: these are all the users there are
    admin = client.sign_up(f"scale-{uuid.uuid4().hex[:8]}@example.com", admin=True)
    final: dict[str, Any] = {}

    def export() -> None:
        # Input {}: every user, as a real full export runs (a list of 10k ids would make the job
        # document ~250 KB, re-sent to every listener on each progress write).
        job = client.call("start_job", {"type": "media_export", "input": {}}, admin.id_token)
        with tqdm(total=args.users, desc="exporting", unit="user") as bar:

            def on_change(doc: dict[str, object]) -> None:
                progress: dict[str, Any] = doc.get("progress") or {}  # type: ignore[assignment]
                done = int(progress.get("done", 0)) + int(progress.get("failed", 0))
                bar.update(max(0, done - bar.n))

            final.update(client.watch_job(job["job_id"], on_change, timeout=6 * 3600)[0])
        final["job_id"] = job["job_id"]

    started = time.perf_counter()
    calls: collections.Counter[str] | None = None
    writes = reads = None
    if os.environ.get(rpc_meter.ENV_VAR):
        measured = metered(export)
        calls, writes, reads = measured.calls, measured.writes, measured.reads
    else:
        export()
    elapsed = time.perf_counter() - started
    job_doc = cloud.db().collection("jobs").document(str(final["job_id"])).get().to_dict() or {}
    report = {
        "users": args.users,
        "status": final.get("status"),
        "successful_users": (final.get("result") or {}).get("successful_users"),
        "seconds": round(elapsed, 1),
        "users_per_second": round(args.users / elapsed, 2),
        "tasks": 1 + math.ceil(args.users / MediaExportJob.chunk_size),
        "firestore_writes": writes,
        "firestore_writes_per_user": round(writes / args.users, 2) if writes else None,
        "firestore_reads_per_user": round(reads / args.users, 2) if reads else None,
        "firestore_round_trips_per_user": round(sum(calls.values()) / args.users, 2) if calls else None,
        "round_trips_by_method": dict(calls) if calls else None,
        "job_document_bytes": len(json.dumps(job_doc, default=str).encode()),
        "export_queue_concurrency": os.environ.get("EXPORT_QUEUE_MAX_CONCURRENCY", "see functions/.env.local"),
    }
    print(json.dumps(report, indent=2))
    out = Path(__file__).parent / "results" / f"scale-export-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"results: {out}")
    return 0 if final.get("status") == "completed" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
