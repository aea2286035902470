"""Every deployed function, declared here and handed to the mediajobs package.

Keep this module light: it is imported at every cold start and by the emulator's discovery.
Each function imports the module it hands its call to when it runs, so an instance loads only
what its own function needs (heavy libraries load deeper still, inside the code using them).
"""

from typing import Any

from firebase_functions import eventarc_fn, firestore_fn, https_fn, options, scheduler_fn, storage_fn, tasks_fn
from firebase_functions.core import CloudEvent
from flask import Request, Response

from mediajobs import cloud, config, event_probes, incidents, logs
from mediajobs.jobs import queues
from mediajobs.photos.auto.bucket import watched_bucket

# REGION is a param: firebase-tools resolves "{{ params.REGION }}" from functions/.env* at deploy.
options.set_global_options(region=str(config.REGION), max_instances=100)
cloud.app()  # before any SDK helper can initialise the default app without our credential


def _run_items(req: https_fn.CallableRequest[Any]) -> None:
    from mediajobs.jobs import items

    logs.task_dispatched(req.raw_request.headers, str(req.data["job_id"]))  # queue age (ops/metrics)
    items.run_items(str(req.data["job_id"]), [str(i) for i in req.data["item_ids"]])


@https_fn.on_call()
@incidents.guarded
def start_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.jobs import api

    return api.start_job(req)


@https_fn.on_call()
@incidents.guarded
def cancel_job(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.jobs import api

    return api.cancel_job(req)


@firestore_fn.on_document_created(document="jobs/{job_id}", timeout_sec=60, memory=options.MemoryOption.MB_512)
def on_job_created(event: firestore_fn.Event[Any]) -> None:
    from mediajobs.jobs import start

    start.start_job(event.params["job_id"])


@tasks_fn.on_task_dispatched(**queues.PLAN.function_options())
def jobplan(req: https_fn.CallableRequest[Any]) -> None:
    from mediajobs.jobs import plan

    plan.plan_job(str(req.data["job_id"]))


@tasks_fn.on_task_dispatched(**queues.JOB_EVENTS.function_options())
def jobevents(req: https_fn.CallableRequest[Any]) -> None:
    """Publishes a job's staged lifecycle event, or its started event (raises for Cloud Tasks to retry)."""
    from mediajobs.jobs import outbox

    if req.data.get("event") == "started":
        outbox.publish_started(str(req.data["job_id"]))
        return
    outbox.publish_staged(str(req.data["job_id"]))


@tasks_fn.on_task_dispatched(**queues.JOB_WEBHOOKS.function_options())
def jobwebhooks(req: https_fn.CallableRequest[Any]) -> None:
    """One signed delivery of a job's event to its owner's webhook (raises for Cloud Tasks to retry)."""
    from mediajobs.jobs.notify import webhooks

    webhooks.deliver(str(req.data["job_id"]), str(req.data["event"]))


@https_fn.on_call()
@incidents.guarded
def webhook_secret(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """The caller's webhook signing secret (created on first use; `rotate: true` replaces it)."""
    from mediajobs.jobs.notify import api

    return api.webhook_secret(req)


@tasks_fn.on_task_dispatched(**queues.JOB_NOTICES.function_options())
def jobnotices(req: https_fn.CallableRequest[Any]) -> None:
    """One push (FCM) or email (`mail` document) of a job's event (raises for Cloud Tasks to retry)."""
    from mediajobs.jobs.notify import announce

    announce.deliver_notice(str(req.data["job_id"]), str(req.data["event"]), str(req.data["channel"]))


@https_fn.on_call()
@incidents.guarded
def register_device(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """Stores the caller's FCM registration token for push notifications of their jobs."""
    from mediajobs.jobs.notify import api

    return api.register_device(req)


@https_fn.on_call()
@incidents.guarded
def set_notification_settings(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """The caller's notification defaults (webhook, push, email) for jobs that pass no `notify`."""
    from mediajobs.jobs.notify import api

    return api.set_notification_settings(req)


@tasks_fn.on_task_dispatched(**queues.GENERIC_ITEMS.function_options())
def jobitems(req: https_fn.CallableRequest[Any]) -> None:
    """Items of kinds without a queue of their own."""
    _run_items(req)


@tasks_fn.on_task_dispatched(**queues.SELFTEST_ITEMS.function_options())
def selftestitems(req: https_fn.CallableRequest[Any]) -> None:
    """Items of the engine's selftest jobs (only when SELFTEST_JOBS_ENABLED)."""
    _run_items(req)


@tasks_fn.on_task_dispatched(**queues.EXPORT_ITEMS.function_options())
def exportitems(req: https_fn.CallableRequest[Any]) -> None:
    """One user of a media export per task (streams their files into one ZIP)."""
    _run_items(req)


@tasks_fn.on_task_dispatched(**queues.PHOTO_ITEMS.function_options())
def photoitems(req: https_fn.CallableRequest[Any]) -> None:
    """A few images of a photo batch per task, so that the worker's model stays warm."""
    _run_items(req)


@tasks_fn.on_task_dispatched(**queues.VIDEO_ITEMS.function_options())
def videoitems(req: https_fn.CallableRequest[Any]) -> None:
    """One output of a video per task: thumbnails, a rendition, the audio track or the mobile encode."""
    _run_items(req)


@https_fn.on_request(memory=options.MemoryOption.MB_512, timeout_sec=300)  # streamed, bounded buffers
def upload(req: Request) -> Response:
    """Multipart images or ZIP files with a Firebase ID token -> 202 {job_id} of a photo_batch."""
    from mediajobs.photos import upload

    return upload.handle_upload(req)


@storage_fn.on_object_finalized(bucket=watched_bucket(), memory=options.MemoryOption.MB_256, timeout_sec=60)
def on_auto_upload(event: CloudEvent[storage_fn.StorageObjectData]) -> None:
    """An image under users/{uid}/auto/{preset}/ starts a photo job of that preset (once per version)."""
    from mediajobs.photos.auto import uploads

    uploads.on_finalized(event.data)


@eventarc_fn.on_custom_event_published(event_type="mediajobs.job.v1.completed", filters={"jobtype": "photo_batch"})
def on_auto_job_completed(event: CloudEvent[Any]) -> None:
    """A completed auto-upload job: its outputs go to users/{uid}/auto-out/{preset}/.

    Only photo jobs invoke it: Eventarc filters on the event's `jobtype` attribute."""
    from mediajobs.photos.auto import uploads

    if isinstance(event.data, dict) and event.data.get("type") == "photo_batch":
        uploads.copy_outputs(str(event.data["job_id"]))


@https_fn.on_call(timeout_sec=540)
@incidents.guarded
def auto_backfill(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """Admins: starts the jobs of images already under users/{uid}/auto/{preset}/."""
    from mediajobs.photos.auto import backfill

    return backfill.auto_backfill(req)


@https_fn.on_call()
@incidents.guarded
def create_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.create_project(req)


@https_fn.on_call()
@incidents.guarded
def update_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.update_project(req)


@https_fn.on_call(timeout_sec=300)
@incidents.guarded
def delete_project(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.delete_project(req)


@https_fn.on_call()
@incidents.guarded
def add_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.add_scene(req)


@https_fn.on_call()
@incidents.guarded
def update_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.update_scene(req)


@https_fn.on_call()
@incidents.guarded
def delete_scene(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Cancels the scene's jobs, then deletes the scene (out of the project's order) and its files."""
    from mediajobs.scenes import scene_deletion

    return scene_deletion.delete_scene(req)


@https_fn.on_call()
@incidents.guarded
def generate_scene_asset(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    from mediajobs.scenes import api

    return api.generate_scene_asset(req)


@https_fn.on_call()
@incidents.guarded
def generate_storyboard(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Starts a storyboard_assets job: every missing asset of every scene of a project."""
    from mediajobs.scenes import storyboard

    return storyboard.generate_storyboard(req)


@https_fn.on_call()
@incidents.guarded
def select_take(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Makes one of a scene's takes the selected asset of its kind."""
    from mediajobs.scenes import takes

    return takes.select_take(req)


@https_fn.on_call()
@incidents.guarded
def download_url(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """Short-lived URLs for Storage objects the caller may read (job outputs, assets, exports)."""
    from mediajobs import downloads

    return downloads.download_url(req)


@https_fn.on_call()
@incidents.guarded
def update_video(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Renames a library video or makes it public or private (its owner)."""
    from mediajobs.video import library

    return library.update_video(req)


@https_fn.on_call()
@incidents.guarded
def set_caption(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Adds, replaces or removes a library video's WebVTT captions in one language (HLS subtitles)."""
    from mediajobs.video import captions

    return captions.set_caption(req)


@https_fn.on_call(memory=options.MemoryOption.MB_512, timeout_sec=120)
@incidents.guarded
def video_thumbnail(req: https_fn.CallableRequest[Any]) -> dict[str, Any]:
    """A still of a library video at a chosen time and width, cached under videos/{id}/stills/."""
    from mediajobs.video import stills

    return stills.video_thumbnail(req)


@https_fn.on_call(timeout_sec=300)
@incidents.guarded
def delete_video(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Deletes a library video: cancels its job if running, removes its record and every object."""
    from mediajobs.video import library

    return library.delete_video(req)


@https_fn.on_request(memory=options.MemoryOption.MB_512, timeout_sec=60, concurrency=80, cpu=1)
def stream(req: Request) -> Response:
    """Playlists of a job's video under a stream token; media objects redirect to signed URLs."""
    from mediajobs.video import stream as streaming

    return streaming.handle_stream(req)


@tasks_fn.on_task_dispatched(
    **queues.SCENE_ITEMS.function_options(), secrets=config.bindings(config.REPLICATE_API_TOKEN)
)
def sceneitems(req: https_fn.CallableRequest[Any]) -> None:
    """Scene assets and mood images, one per task (mostly waiting on the provider)."""
    _run_items(req)


@https_fn.on_request(secrets=config.bindings(config.REPLICATE_WEBHOOK_SECRET))
def replicate_webhook(req: Request) -> Response:
    """Signed prediction news from Replicate."""
    from mediajobs.scenes import webhook

    return webhook.handle_replicate_webhook(req)


@scheduler_fn.on_schedule(schedule="every 5 minutes")
def sweep_jobs(event: scheduler_fn.ScheduledEvent) -> None:
    from mediajobs.jobs import sweeper

    sweeper.sweep_stale_jobs()


# Lifecycle events (contract/CONTRACT.md) have no subscriber of the project's own when deployed.
# The local test project declares probes that record what Eventarc delivered (mediajobs/event_probes.py).
if event_probes.wanted():
    from mediajobs.event_probes import (  # noqa: F401 - declared for discovery
        on_job_cancelled_event,
        on_job_completed_event,
        on_job_failed_event,
        on_job_started_event,
    )
