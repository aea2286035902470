"""Operator and demo command line.

    python -m mediajobs.cli demo                    every job kind end to end (local stack)
    python -m mediajobs.cli export [--user-id ID]   start a media export and watch it
    python -m mediajobs.cli watch JOB_ID            follow any job's progress

`export` and `watch` use the Admin SDK: against the local stack through `./dev exec`, or
against a real project with the usual Google credentials (GOOGLE_APPLICATION_CREDENTIALS or
`gcloud auth application-default login`, and GOOGLE_CLOUD_PROJECT).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from google.cloud import firestore as gfs

from mediajobs import platform
from mediajobs.cli import client
from mediajobs.jobs.models import new_job_document


def progress_bar(job_id: str, timeout: float) -> dict[str, Any]:
    """Shows the job's progress as its Firestore listener reports it; returns the final document."""
    from tqdm import tqdm

    with tqdm(total=100, unit="%", desc=job_id[:8], bar_format="{desc} {bar} {n:.0f}% {postfix}") as bar:

        def on_change(job: dict[str, Any]) -> None:
            progress = job.get("progress") or {}
            bar.n = int(progress.get("percent", 0))
            bar.set_postfix_str(
                f"{job.get('status')} {progress.get('done', 0)}/{progress.get('total', 0)} done, "
                f"{progress.get('failed', 0)} failed {job.get('current') or ''}"[:100]
            )

        final, _ = client.watch_job(job_id, on_change, timeout=timeout)
    return final


def report(final: dict[str, Any]) -> None:
    print(f"  status: {final['status']}")
    if final.get("error"):
        print(f"  error: {final['error']['code']}: {final['error']['message']}")
    for error in final.get("errors") or []:
        print(f"  item error: {error['item']}: {error['code']}: {error['message']}")


def demo(args: argparse.Namespace) -> int:
    from mediajobs.cli import seed

    ok = True
    user = client.sign_up(f"demo-{uuid.uuid4().hex[:8]}@example.com")
    admin = client.sign_up(f"admin-{uuid.uuid4().hex[:8]}@example.com", admin=True)
    print(f"signed in as {user.email} and, for admin jobs, {admin.email}")

    print(f"\n1. selftest: {args.items} items through the job engine, item 3 rejected on purpose")
    job = client.call(
        "start_job",
        {"type": "selftest", "input": {"items": args.items, "sleep_ms": 150, "reject_items": [3]}},
        user.id_token,
    )
    final = progress_bar(job["job_id"], args.timeout)
    report(final)
    print(f"  result: {final.get('result')}")
    ok &= final["status"] == "completed"

    print("\n2. media_export: users with real photos and voice memos, one ZIP each")
    user_ids = seed.seed_demo_users(5, prefix=f"demo-{uuid.uuid4().hex[:6]}")
    job = client.call("start_job", {"type": "media_export", "input": {"user_ids": user_ids}}, admin.id_token)
    final = progress_bar(job["job_id"], args.timeout)
    report(final)
    result = final.get("result") or {}
    for archive in result.get("archives", []):
        print(f"  {archive['path']}: {archive['files']} files, {archive['bytes']:,} bytes")
    ok &= final["status"] == "completed" and result.get("successful_users") == len(user_ids)
    return 0 if ok else 1


def export(args: argparse.Namespace) -> int:
    """Starts an export as a trusted Admin SDK writer and follows it."""
    job_input: dict[str, Any] = {}
    if args.user_id:
        job_input["user_ids"] = args.user_id
    if args.resume_from:
        job_input["resume_from"] = args.resume_from
    ref = platform.db().collection("jobs").document()
    document = new_job_document(job_type="media_export", owner_uid=args.owner_uid, input=job_input, options={})
    ref.create({**document, "created_at": gfs.SERVER_TIMESTAMP, "updated_at": gfs.SERVER_TIMESTAMP})
    print(f"media_export job {ref.id} queued")
    if args.no_wait:
        return 0
    return watch_and_report(ref.id, args.timeout)


def watch_and_report(job_id: str, timeout: float) -> int:
    final = progress_bar(job_id, timeout)
    report(final)
    result = final.get("result") or {}
    if "successful_users" in result:
        print(
            f"  users: {result['successful_users']} exported, {result['failed_users']} failed; "
            f"{result['total_files']} files, {result['total_bytes']:,} bytes; index: {result.get('index_path')}"
        )
    return 0 if final["status"] == "completed" else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mediajobs.cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo_parser = sub.add_parser("demo", help="run every job kind end to end on the local stack")
    demo_parser.add_argument("--items", type=int, default=40)
    demo_parser.add_argument("--timeout", type=float, default=600)
    export_parser = sub.add_parser("export", help="start a media export and show its progress")
    export_parser.add_argument("--user-id", action="append", help="export only these users (repeatable)")
    export_parser.add_argument("--resume-from", help="skip users a previous export already archived")
    export_parser.add_argument("--owner-uid", default="operator-cli", help="recorded as the job's owner")
    export_parser.add_argument("--no-wait", action="store_true", help="print the job id and exit")
    export_parser.add_argument("--timeout", type=float, default=24 * 3600)
    watch_parser = sub.add_parser("watch", help="follow a job until it ends")
    watch_parser.add_argument("job_id")
    watch_parser.add_argument("--timeout", type=float, default=24 * 3600)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args)
    if args.command == "export":
        return export(args)
    return watch_and_report(args.job_id, args.timeout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
