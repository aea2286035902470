"""Every deployed function, declared here and handed to the mediajobs package.

Keep this module light: it is imported at every cold start and by the emulator's discovery.
Each function imports the module it hands its call to when it runs, so an instance loads only
what its own function needs (heavy libraries load deeper still, inside the code using them).
"""

from typing import Any

from firebase_functions import firestore_fn, https_fn, options, scheduler_fn, tasks_fn
from flask import Request, Response

from mediajobs import config, platform

options.set_global_options(region="us-central1", max_instances=100)
platform.app()  # before any SDK helper can initialise the default app without our credential


def _run_items(req: https_fn.CallableRequest[Any]) -> None:
    from mediajobs.jobs import engine

    engine.run_items(str(req.data["job_id"]), [str(i) for i in req.data["item_ids"]])


@https_fn.on_call()
def start_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.jobs import api

    return api.start_job(req)


@https_fn.on_call()
def cancel_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.jobs import api

    return api.cancel_job(req)


@firestore_fn.on_document_created(document="jobs/{job_id}", timeout_sec=60)  # see INLINE_PLAN_LEASE
def on_job_created(event: firestore_fn.Event[Any]) -> None:
    from mediajobs.jobs import engine

    engine.start_job(event.params["job_id"])


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=10, min_backoff_seconds=1, max_backoff_seconds=60),
    rate_limits=options.RateLimits(max_concurrent_dispatches=20),
    timeout_sec=1800,  # the longest a task may run; planning a huge job writes and enqueues it all
)
def jobplan(req: https_fn.CallableRequest[Any]) -> None:
    from mediajobs.jobs import engine

    engine.plan_job(str(req.data["job_id"]))


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=20, min_backoff_seconds=1, max_backoff_seconds=60),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.ITEM_QUEUE_MAX_CONCURRENCY),
    timeout_sec=540,
    memory=options.MemoryOption.GB_1,
)
def jobitems(req: https_fn.CallableRequest[Any]) -> None:
    _run_items(req)


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=20, min_backoff_seconds=2, max_backoff_seconds=120),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.EXPORT_QUEUE_MAX_CONCURRENCY),
    timeout_sec=1800,
    memory=options.MemoryOption.GB_1,
    cpu=1,
    concurrency=8,  # I/O-bound; a user's archive holds at most ~40 MB in memory at once
)
def exportitems(req: https_fn.CallableRequest[Any]) -> None:
    """One user of a media export per task (streams their files into one ZIP)."""
    _run_items(req)


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=20, min_backoff_seconds=2, max_backoff_seconds=120),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.PHOTO_QUEUE_MAX_CONCURRENCY),
    timeout_sec=1800,
    memory=options.MemoryOption.GB_2,
    cpu=2,
    concurrency=1,  # the model uses both CPUs; a second chunk would only slow both
)
def photoitems(req: https_fn.CallableRequest[Any]) -> None:
    """A few images of a photo batch per task, so that the worker's model stays warm."""
    _run_items(req)


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=5, min_backoff_seconds=10, max_backoff_seconds=300),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.VIDEO_QUEUE_MAX_CONCURRENCY),
    timeout_sec=1800,
    memory=options.MemoryOption.GB_8,  # the source and a rendition in /tmp (memory): docs/SCALING.md
    cpu=2,
    concurrency=1,  # ffmpeg uses both CPUs and the temp disk (which is memory here)
)
def videoitems(req: https_fn.CallableRequest[Any]) -> None:
    """One output of a video per task: thumbnails, a rendition, the audio track or the mobile encode."""
    _run_items(req)


@https_fn.on_request(memory=options.MemoryOption.GB_1, timeout_sec=300)
def upload(req: Request) -> Response:
    """Multipart images or ZIP files with a Firebase ID token -> 202 {job_id} of a photo_batch."""
    from mediajobs.photos import upload

    return upload.handle_upload(req)


@https_fn.on_call()
def create_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.create_project(req)


@https_fn.on_call()
def update_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.update_project(req)


@https_fn.on_call(timeout_sec=300)
def delete_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.delete_project(req)


@https_fn.on_call()
def add_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.add_scene(req)


@https_fn.on_call()
def update_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.update_scene(req)


@https_fn.on_call()
def generate_scene_asset(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.generate_scene_asset(req)


@https_fn.on_call()
def download_url(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """Short-lived URLs for Storage objects the caller may read (job outputs, assets, exports)."""
    from mediajobs import downloads

    return downloads.download_url(req)


@https_fn.on_request(memory=options.MemoryOption.MB_512, timeout_sec=60, concurrency=80, cpu=1)
def stream(req: Request) -> Response:
    """Playlists of a job's video under a stream token; media objects redirect to signed URLs."""
    from mediajobs.video import stream as streaming

    return streaming.handle_stream(req)


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=10, min_backoff_seconds=5, max_backoff_seconds=300),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.SCENE_QUEUE_MAX_CONCURRENCY),
    timeout_sec=1800,
    memory=options.MemoryOption.GB_1,
    cpu=1,
    concurrency=10,  # mostly waiting on the provider
    secrets=[config.REPLICATE_API_TOKEN],
)
def sceneitems(req: https_fn.CallableRequest[Any]) -> None:
    """Scene assets and mood images, one per task (mostly waiting on the provider)."""
    _run_items(req)


@https_fn.on_request(secrets=[config.REPLICATE_WEBHOOK_SECRET])
def replicate_webhook(req: Request) -> Response:
    """Signed prediction news from Replicate."""
    from mediajobs.scenes import webhook

    return webhook.handle_replicate_webhook(req)


@scheduler_fn.on_schedule(schedule="every 5 minutes")
def sweep_jobs(event: scheduler_fn.ScheduledEvent) -> None:
    from mediajobs.jobs import sweeper

    sweeper.sweep_stale_jobs()
