"""`python -m mediajobs.cli demo` runs every job kind end to end with a live progress bar."""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from mediajobs.cli import client


def progress_bar(job_id: str, timeout: float) -> dict[str, Any]:
    """Shows the job's progress as its listener reports it; returns the final document."""
    from tqdm import tqdm

    with tqdm(total=100, unit="%", desc=job_id[:8], bar_format="{desc} {bar} {n:.0f}% {postfix}") as bar:

        def on_change(job: dict[str, Any]) -> None:
            progress = job.get("progress") or {}
            bar.n = int(progress.get("percent", 0))
            bar.set_postfix_str(
                f"{job.get('status')} {progress.get('done', 0)}/{progress.get('total', 0)} done, "
                f"{progress.get('failed', 0)} failed {job.get('current') or ''}"
            )

        final, _ = client.watch_job(job_id, on_change, timeout=timeout)
    return final


def demo(args: argparse.Namespace) -> int:
    user = client.sign_up(f"demo-{uuid.uuid4().hex[:8]}@example.com")
    print(f"signed in as {user.email} ({user.uid})")
    job = client.call(
        "start_job",
        {"type": "selftest", "input": {"items": args.items, "sleep_ms": 200, "reject_items": [3]}},
        user.id_token,
    )
    print(f"selftest job {job['job_id']}: {args.items} items, item 3 fails on purpose")
    final = progress_bar(job["job_id"], timeout=args.timeout)
    print(f"status={final['status']} result={final.get('result')} errors={final.get('errors')}")
    return 0 if final["status"] == "completed" else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mediajobs.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    demo_parser = sub.add_parser("demo", help="run every job kind end to end on the local stack")
    demo_parser.add_argument("--items", type=int, default=40)
    demo_parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
