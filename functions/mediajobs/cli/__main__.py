"""Operator and demo command line.

    python -m mediajobs.cli demo                    every job kind end to end (local stack)
    python -m mediajobs.cli export [--user-id ID]   start a media export and watch it
        [--download DIR]                            ...then unpack it into DIR/{safe_email}/images|voices/
        [--archive-max-mb N]                        ...splitting a user's archive into parts of N MiB
    python -m mediajobs.cli download JOB_ID DIR     unpack a finished export or data export (resumable)
    python -m mediajobs.cli watch JOB_ID            follow any job's progress

`export` and `watch` use the Admin SDK: against the local stack through `./dev exec`, or
against a real project with the usual Google credentials (GOOGLE_APPLICATION_CREDENTIALS or
`gcloud auth application-default login`, and GOOGLE_CLOUD_PROJECT).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from typing import Any

from google.cloud import firestore as gfs

from mediajobs import cloud
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
    from mediajobs.cli.demo_split_export import demo_split_export

    ok = True
    # Known accounts (each run has fresh emulators), so that people can sign in to the dashboard.
    user = client.sign_up(DEMO_USER[0], DEMO_USER[1])
    admin = client.sign_up(DEMO_ADMIN[0], DEMO_ADMIN[1], admin=True)
    print(f"signed in as {user.email} and, for admin jobs, {admin.email}")
    print_dashboard()

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
    ok &= demo_split_export(admin, lambda job_id: progress_bar(job_id, args.timeout))

    print("\n3. photo_batch: real photos through the upload endpoint, background removed, faces cropped")
    ok &= demo_photos(user, args.timeout)

    print("\n4. scenes: a project with a brief and 4 scenes, every asset kind for all scenes at once")
    ok &= demo_scenes(user, args.timeout)

    print("\n5. storyboard: a mood board by the provider, one mood picked, the whole storyboard as one job,")
    print("   then two more takes of one scene's image (different seeds), the first selected")
    from mediajobs.cli.demo_storyboard import demo_storyboard

    ok &= demo_storyboard(user, args.timeout, progress_bar)

    from mediajobs.cli.demo_video import demo_video

    print("\n6. video_process: a 720p clip into thumbnails, renditions, a mobile MP4, HLS and DASH")
    ok &= demo_video(user, lambda job_id: progress_bar(job_id, args.timeout))

    from mediajobs.cli.demo_webhook import demo_webhook

    print("\n7. notify: a job's start and end as signed webhooks (Standard Webhooks) to a local receiver")
    ok &= demo_webhook(user, lambda job_id: progress_bar(job_id, args.timeout))

    from mediajobs.cli.demo_library import demo_library

    print("\n8. library: captions and a still on that video, a white-background JPG, an image processed on upload")
    ok &= demo_library(user, lambda job_id: progress_bar(job_id, args.timeout))
    keep_dashboard_open(args.keep_open)
    return 0 if ok else 1


DEMO_USER = ("demo@example.com", "demo-password")
DEMO_ADMIN = ("admin@example.com", "admin-password")


def print_dashboard() -> None:
    import os

    origin = os.environ.get("HOSTING_ORIGIN")
    if not origin:
        return
    print(f"\ndashboard: {origin}/  (live while the demo runs)")
    print(f"  sign in as {DEMO_USER[0]} / {DEMO_USER[1]} to watch the demo's jobs,")
    print(f"  or as the admin {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]} (Export page)")


def keep_dashboard_open(mode: str) -> None:
    """Keeps the stack (and so the dashboard) up after the demo until Enter, when on a terminal."""
    import os

    if not os.environ.get("HOSTING_ORIGIN") or mode == "no" or (mode == "auto" and not sys.stdin.isatty()):
        return
    print_dashboard()
    with contextlib.suppress(EOFError, KeyboardInterrupt):
        input("\nPress Enter to stop the demo and its local stack... ")


def demo_photos(user: client.User, timeout: float) -> bool:
    import os

    import requests

    from mediajobs.cli import seed

    files = [
        ("file", (f"{name}.jpg", seed.photo_jpeg(name), "image/jpeg")) for name in ("astronaut", "coffee", "chelsea")
    ]
    reply = requests.post(
        f"{os.environ['FUNCTIONS_ORIGIN']}/upload",
        files=files,
        data={"options": '{"remove_bg": true, "crop_face": true, "face_size": 384}'},
        headers={"Authorization": f"Bearer {user.id_token}"},
        timeout=120,
    )
    reply.raise_for_status()
    final = progress_bar(reply.json()["job_id"], timeout)
    report(final)
    for path in (final.get("result") or {}).get("outputs", []):
        print(f"  {path}")
    return bool(final["status"] == "completed")


def demo_scenes(user: client.User, timeout: float) -> bool:
    """Each scene generates its kinds one after another (one active job per scene); scenes run at once."""
    import threading

    from tqdm import tqdm

    from mediajobs.scenes.models import ASSET_KINDS

    brief = {"brand_name": "Fizz", "product_description": "sparkling water", "target_audience": "runners",
             "key_message": "stay light", "tone": "playful", "additional_notes": ""}  # fmt: skip
    project_id = client.call(
        "create_project", {"name": "Fizz summer", "storyboard": {"title": "Summer launch", "creative_brief": brief}},
        user.id_token,
    )["project_id"]  # fmt: skip
    titles = ["Sunrise run", "Cold bottle", "Finish line", "Logo"]
    scene_ids = [
        client.call("add_scene", {"project_id": project_id, "title": t, "description": f"{t} at the beach",
                                  "duration_seconds": 3}, user.id_token)["scene_id"]
        for t in titles
    ]  # fmt: skip
    layout = "{desc} {bar} {n}/{total} {postfix}"
    bars = {
        sid: tqdm(total=len(ASSET_KINDS), desc=f"{title:12}", position=i, bar_format=layout)
        for i, (sid, title) in enumerate(zip(scene_ids, titles, strict=True))
    }

    def on_scenes(docs: list[Any], _changes: Any, _time: Any) -> None:
        for doc in docs:
            if doc.id in bars:
                data = doc.to_dict() or {}
                active = data.get("active_job") or {}
                bars[doc.id].n = sum(1 for k in ASSET_KINDS if (data.get("assets") or {}).get(f"{k}_path"))
                bars[doc.id].set_postfix_str(
                    f"{active.get('type', '')} {active.get('status', '')} {active.get('progress', 0)}%"
                )

    scenes = cloud.db().collection("projects").document(project_id).collection("scenes")
    watch = scenes.on_snapshot(on_scenes)
    failures: list[str] = []

    def generate(scene_id: str) -> None:
        for kind in ASSET_KINDS:
            job = client.call("generate_scene_asset", {"project_id": project_id, "scene_id": scene_id, "kind": kind},
                              user.id_token)  # fmt: skip
            final, _ = client.watch_job(job["job_id"], timeout=timeout)
            if final["status"] != "completed":
                failures.append(f"{scene_id} {kind}: {final.get('error')}")

    threads = [threading.Thread(target=generate, args=(sid,)) for sid in scene_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    watch.unsubscribe()
    for bar in bars.values():
        bar.close()
    project = cloud.db().collection("projects").document(project_id).get().to_dict() or {}
    stats = project["stats"]
    print(f"  project {project_id}: {stats['completed_scenes']}/{stats['total_scenes']} scenes complete")
    for failure in failures:
        print(f"  failed: {failure}")
    return not failures and project["stats"]["completed_scenes"] == len(scene_ids)


def export(args: argparse.Namespace) -> int:
    """Starts an export as a trusted Admin SDK writer and follows it."""
    job_input: dict[str, Any] = {}
    if args.user_id:
        job_input["user_ids"] = args.user_id
    if args.resume_from:
        job_input["resume_from"] = args.resume_from
    options: dict[str, Any] = {}
    if args.archive_max_mb:
        options["archive_max_bytes"] = args.archive_max_mb * 1024 * 1024
    ref = cloud.db().collection("jobs").document()
    document = new_job_document(job_type="media_export", owner_uid=args.owner_uid, input=job_input, options=options)
    ref.create({**document, "created_at": gfs.SERVER_TIMESTAMP, "updated_at": gfs.SERVER_TIMESTAMP})
    print(f"media_export job {ref.id} queued")
    if args.no_wait:
        return 0
    status = watch_and_report(ref.id, args.timeout)
    if args.download:
        status = max(status, download_and_report(ref.id, args.download))
    return status


def download_and_report(job_id: str, dest: str) -> int:
    """Unpacks the export's archives into `dest`; files already there and intact are skipped."""
    from pathlib import Path

    from mediajobs.cli.download import download_export

    job = cloud.db().collection("jobs").document(job_id).get().to_dict() or {}
    if job.get("type") == "my_data":
        from mediajobs.cli.download_my_data import download_my_data

        summary = download_my_data(job, Path(dest))
    elif job.get("type") != "media_export":
        print(f"{job_id} is not a media_export or my_data job", file=sys.stderr)
        return 2
    else:
        summary = download_export(job_id, job, Path(dest))
    print(
        f"  download: {summary.archives} archives into {dest}: {summary.written} files written "
        f"({summary.bytes_written:,} bytes), {summary.skipped} already there"
    )
    for problem in summary.problems:
        print(f"  download problem: {problem}")
    return 1 if summary.problems else 0


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
    demo_parser.add_argument(
        "--keep-open",
        choices=["auto", "yes", "no"],
        default="auto",
        help="keep the dashboard up after the demo until Enter (auto: when stdin is a terminal)",
    )
    export_parser = sub.add_parser("export", help="start a media export and show its progress")
    export_parser.add_argument("--user-id", action="append", help="export only these users (repeatable)")
    export_parser.add_argument("--resume-from", help="skip users a previous export already archived")
    export_parser.add_argument("--owner-uid", default="operator-cli", help="recorded as the job's owner")
    export_parser.add_argument("--no-wait", action="store_true", help="print the job id and exit")
    export_parser.add_argument("--timeout", type=float, default=24 * 3600)
    export_parser.add_argument("--download", metavar="DIR", help="then unpack every archive into DIR (resumable)")
    export_parser.add_argument(
        "--archive-max-mb", type=int, help="split a user's archive into parts of at most this many MiB (min 64)"
    )
    download_parser = sub.add_parser("download", help="unpack a media export into DIR/{safe_email}/images|voices/")
    download_parser.add_argument("job_id")
    download_parser.add_argument("dir")
    watch_parser = sub.add_parser("watch", help="follow a job until it ends")
    watch_parser.add_argument("job_id")
    watch_parser.add_argument("--timeout", type=float, default=24 * 3600)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args)
    if args.command == "export":
        if args.archive_max_mb is not None and not 64 <= args.archive_max_mb <= 50 * 1024:
            parser.error("--archive-max-mb must be between 64 and 51200 (MiB)")
        return export(args)
    if args.command == "download":
        return download_and_report(args.job_id, args.dir)
    return watch_and_report(args.job_id, args.timeout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
