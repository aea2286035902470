"""Every deployed function, declared here and handed to the mediajobs package.

Keep this module light: it is imported at every cold start and by the emulator's discovery,
so heavy libraries (rembg, onnxruntime, cv2, av) load only inside the code that needs them.
"""

from typing import Any

from firebase_functions import firestore_fn, https_fn, options, scheduler_fn, tasks_fn
from flask import Request, Response

from mediajobs import config, platform
from mediajobs.jobs import api, engine, sweeper
from mediajobs.photos import upload as photo_upload
from mediajobs.scenes import api as scenes_api
from mediajobs.scenes import webhook

options.set_global_options(region="us-central1", max_instances=100)
platform.app()  # before any SDK helper can initialise the default app without our credential


@https_fn.on_call()
def start_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    return api.start_job(req)


@https_fn.on_call()
def cancel_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    return api.cancel_job(req)


@firestore_fn.on_document_created(document="jobs/{job_id}")
def on_job_created(event: firestore_fn.Event[Any]) -> None:
    engine.start_job(event.params["job_id"])


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=10, min_backoff_seconds=1, max_backoff_seconds=60),
    rate_limits=options.RateLimits(max_concurrent_dispatches=20),
    timeout_sec=540,
)
def jobplan(req: https_fn.CallableRequest[Any]) -> None:
    engine.plan_job(str(req.data["job_id"]))


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=20, min_backoff_seconds=1, max_backoff_seconds=60),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.ITEM_QUEUE_MAX_CONCURRENCY),
    timeout_sec=540,
    memory=options.MemoryOption.GB_1,
)
def jobitems(req: https_fn.CallableRequest[Any]) -> None:
    engine.run_items(str(req.data["job_id"]), [str(i) for i in req.data["item_ids"]])


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=20, min_backoff_seconds=2, max_backoff_seconds=120),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.EXPORT_QUEUE_MAX_CONCURRENCY),
    timeout_sec=1800,
    memory=options.MemoryOption.GB_1,
)
def exportitems(req: https_fn.CallableRequest[Any]) -> None:
    """One user of a media export per task (streams their files into one ZIP)."""
    engine.run_items(str(req.data["job_id"]), [str(i) for i in req.data["item_ids"]])


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=20, min_backoff_seconds=2, max_backoff_seconds=120),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.PHOTO_QUEUE_MAX_CONCURRENCY),
    timeout_sec=1800,
    memory=options.MemoryOption.GB_2,
    cpu=2,
)
def photoitems(req: https_fn.CallableRequest[Any]) -> None:
    """A few images of a photo batch per task, so that the worker's model stays warm."""
    engine.run_items(str(req.data["job_id"]), [str(i) for i in req.data["item_ids"]])


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=5, min_backoff_seconds=10, max_backoff_seconds=300),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.VIDEO_QUEUE_MAX_CONCURRENCY),
    timeout_sec=1800,
    memory=options.MemoryOption.GB_4,
    cpu=2,
)
def videoitems(req: https_fn.CallableRequest[Any]) -> None:
    """A whole video per task: probe, thumbnails, renditions, HLS (ffmpeg in a temp folder)."""
    engine.run_items(str(req.data["job_id"]), [str(i) for i in req.data["item_ids"]])


@https_fn.on_request(memory=options.MemoryOption.GB_1, timeout_sec=300)
def upload(req: Request) -> Response:
    """Multipart images or ZIP files with a Firebase ID token -> 202 {job_id} of a photo_batch."""
    return photo_upload.handle_upload(req)


@https_fn.on_call()
def create_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    return scenes_api.create_project(req)


@https_fn.on_call()
def update_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    return scenes_api.update_project(req)


@https_fn.on_call(timeout_sec=300)
def delete_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    return scenes_api.delete_project(req)


@https_fn.on_call()
def add_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    return scenes_api.add_scene(req)


@https_fn.on_call()
def update_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    return scenes_api.update_scene(req)


@https_fn.on_call()
def generate_scene_asset(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    return scenes_api.generate_scene_asset(req)


@tasks_fn.on_task_dispatched(
    retry_config=options.RetryConfig(max_attempts=10, min_backoff_seconds=5, max_backoff_seconds=300),
    rate_limits=options.RateLimits(max_concurrent_dispatches=config.SCENE_QUEUE_MAX_CONCURRENCY),
    timeout_sec=1800,
    memory=options.MemoryOption.GB_1,
    secrets=[config.REPLICATE_API_TOKEN],
)
def sceneitems(req: https_fn.CallableRequest[Any]) -> None:
    """Scene assets and mood images, one per task (mostly waiting on the provider)."""
    engine.run_items(str(req.data["job_id"]), [str(i) for i in req.data["item_ids"]])


@https_fn.on_request(secrets=[config.REPLICATE_WEBHOOK_SECRET])
def replicate_webhook(req: Request) -> Response:
    """Signed prediction news from Replicate."""
    return webhook.handle_replicate_webhook(req)


@scheduler_fn.on_schedule(schedule="every 5 minutes")
def sweep_jobs(event: scheduler_fn.ScheduledEvent) -> None:
    sweeper.sweep_stale_jobs()
