"""main.py is imported at every cold start: it must stay light."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
HEAVY = ("rembg", "onnxruntime", "cv2", "av", "PIL", "numpy", "replicate")


def test_importing_main_loads_no_heavy_library() -> None:
    code = "import sys, main; print(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], cwd=FUNCTIONS, capture_output=True, text=True, check=True)
    loaded = set(run.stdout.split())
    assert "main" in loaded and "firebase_functions" in loaded
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


PROBES = ["on_job_cancelled_event", "on_job_completed_event", "on_job_failed_event", "on_job_started_event"]


def declared(**env: str) -> list[str]:
    """The functions main.py declares (what discovery finds), imported with `env` added."""
    code = (
        "import main; print(' '.join(sorted(n for n, f in vars(main).items() if hasattr(f, '__firebase_endpoint__'))))"
    )
    environ = {k: v for k, v in os.environ.items() if k != "JOB_EVENT_PROBES"} | env
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=FUNCTIONS, env=environ, capture_output=True, text=True, check=True
    )
    return run.stdout.split()


def test_main_declares_every_function() -> None:
    assert declared() == sorted(
        [
            "add_scene", "cancel_job", "create_project", "delete_project", "download_url", "exportitems",
            "generate_scene_asset", "generate_storyboard",
            "jobevents", "jobitems", "jobplan", "jobwebhooks", "on_job_created", "photoitems", "replicate_webhook",
            "sceneitems", "selftestitems", "start_job", "stream", "sweep_jobs", "update_project", "update_scene",
            "upload", "webhook_secret", "jobnotices", "register_device", "set_notification_settings",
            "delete_video", "set_caption", "update_video", "videoitems",
            "select_take",
            "delete_scene",
            "video_thumbnail",
            "on_auto_upload", "on_auto_job_completed", "auto_backfill",
        ]
    )  # fmt: skip


def test_the_lifecycle_event_probes_are_declared_only_where_asked_for() -> None:
    """The tests' event probes exist in the local test project (JOB_EVENT_PROBES=true in
    functions/.env.demo-mediajobs), never in a deploy: there they would cost two invocations
    per job."""
    with_probes = declared(JOB_EVENT_PROBES="true")
    assert sorted(set(with_probes) - set(declared())) == PROBES
    assert declared(JOB_EVENT_PROBES="false") == declared()
