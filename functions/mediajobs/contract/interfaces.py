"""Requests and responses of every callable and HTTP endpoint, and the lifecycle event's data.

Requests are the models the functions validate with (imported from their modules); responses,
which the functions build as plain dicts, are modelled here.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal, Union

import pydantic

from mediajobs.contract.common import AssetKind, JobStatus, Progress, Shape, Timestamp
from mediajobs.contract.documents import JobType
from mediajobs.jobs.notify.models import (
    NotificationDefaults,
    NotifySettings,
    RegisterDeviceRequest,
    WebhookEvent,
    WebhookSecretRequest,
)


class JobIdResponse(Shape):
    job_id: str


class CancelJobResponse(Shape):
    status: JobStatus = pydantic.Field(
        description="The job's status after the request: cancelled if it was still queued, "
        "else processing (it stops at the next item boundary) or the end it already had."
    )


class ProjectIdResponse(Shape):
    project_id: str


class SceneIdResponse(Shape):
    scene_id: str


class SelectTakeResponse(Shape):
    scene_id: str
    kind: AssetKind = pydantic.Field(description="The asset kind whose selected take changed.")
    take_id: str


class VideoIdResponse(Shape):
    video_id: str


class VideoThumbnailResponse(Shape):
    path: str = pydantic.Field(description="videos/{video_id}/stills/{milliseconds}ms-{width}w.jpg")
    url: str = pydantic.Field(description="A URL to GET the JPEG (like download_url's).")
    width: int = pydantic.Field(description="The still's width: as asked, or the video's when it is narrower.")
    at_seconds: float = pydantic.Field(description="The time taken, to the millisecond.")
    expires_in: int = pydantic.Field(description="Seconds the URL stays valid.")
    cached: bool = pydantic.Field(description="The still was already stored (no frame was drawn).")


class AutoBackfillResponse(Shape):
    scanned: int = pydantic.Field(description="Objects looked at (at most max_objects).")
    started: int = pydantic.Field(description="Jobs started (new versions, and starts a cap had refused).")
    already: int = pydantic.Field(description="Versions that have their job already.")
    refused: int = pydantic.Field(description="Starts a cap refused again (recorded on auto_uploads).")
    skipped: int = pydantic.Field(description="Objects the filters leave alone (not an image, outputs, ...).")
    truncated: bool = pydantic.Field(description="More objects were there than max_objects.")


class DownloadUrlResponse(Shape):
    urls: dict[str, str] = pydantic.Field(description="Storage path -> URL to GET.")
    expires_in: int = pydantic.Field(
        description="Seconds every URL of the answer stays valid at least: the shortest lifetime among them "
        "(object URLs 30 minutes; `stream` URLs of playlists, manifests and tracks 6 hours)."
    )


class HttpErrorDetail(Shape):
    status: str = pydantic.Field(description="A Firebase-style code: invalid-argument, unauthenticated, ...")
    message: str


class HttpError(Shape):
    """Body of a 4xx answer of the upload endpoint."""

    error: HttpErrorDetail


class IncidentDetails(Shape):
    """`details` of an `internal` callable error: the id to find its log entry by."""

    incident_id: str


class WebhookError(Shape):
    code: str
    message: str


class WebhookSecretResponse(Shape):
    secret: str = pydantic.Field(description="`whsec_` + base64 of 32 random bytes (Standard Webhooks).")


class RegisterDeviceResponse(Shape):
    token: str
    devices: int = pydantic.Field(ge=1, description="How many devices the user has registered now (at most 10).")


class NotificationSettingsResponse(Shape):
    """The defaults as stored."""

    webhook: str | None
    push: bool
    email: bool


class WebhookBody(Shape):
    """Body of a signed webhook delivery (Standard Webhooks headers: webhook-id `{job_id}-{event}`,
    webhook-timestamp, webhook-signature): the job's public view when the attempt was made."""

    event: WebhookEvent
    id: str = pydantic.Field(description="The job id.")
    type: str = pydantic.Field(description="The job type.")
    status: JobStatus = pydantic.Field(description="The job's status now (a `started` delivery may be late).")
    progress: Progress | None
    result: dict[str, Any] | None = pydantic.Field(description="The job's result (output paths), once it ended.")
    error: WebhookError | None
    created_at: Timestamp | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    updated_at: Timestamp | None


class JobEndedEvent(Shape):
    """`data` of the lifecycle CloudEvents mediajobs.job.v1.{completed,failed,cancelled}."""

    job_id: str
    type: str = pydantic.Field(description="The job type.")
    owner_uid: str
    status: Literal["completed", "failed", "cancelled"]
    result: dict[str, Any] | None = pydantic.Field(
        default=None, description="The job's result as on its document (its public result), once ended."
    )
    output_paths: list[str] = pydantic.Field(
        default_factory=list, description="Every Storage path the result names (outputs, not inputs)."
    )
    error: WebhookError | None = pydantic.Field(default=None, description="The job's error, when it failed.")


class JobStartedEvent(Shape):
    """`data` of the lifecycle CloudEvent mediajobs.job.v1.started (the start trigger claimed the job)."""

    job_id: str
    type: str = pydantic.Field(description="The job type.")
    owner_uid: str
    status: Literal["processing"]
    result: None = None
    output_paths: list[str] = pydantic.Field(default_factory=list, max_length=0)
    error: None = None


def start_job_request(kinds: list[JobType]) -> type[pydantic.BaseModel]:
    """start_job's request: one shape per job type, told apart by `type`."""
    variants = []
    for kind in kinds:
        input_default: Any = {} if not _has_required(kind.input) else ...
        job_type: Any = Literal[kind.name]
        variants.append(
            pydantic.create_model(
                f"Start{kind.title}Job",
                __base__=Shape,
                type=(job_type, ...),
                input=(kind.input, input_default),
                options=(kind.options, {}),
                notify=(NotifySettings | None, None),
            )
        )
    union: Any = Annotated[Union[tuple(variants)], pydantic.Field(discriminator="type")]  # noqa: UP007
    base: Any = pydantic.RootModel[union]
    model: type[pydantic.BaseModel] = type(
        "StartJobRequest", (base,), {"__doc__": "start_job's request: {type, input, options} of one job type."}
    )
    return model


def _has_required(model: type[pydantic.BaseModel]) -> bool:
    return any(field.is_required() for field in model.model_fields.values())


@dataclasses.dataclass(frozen=True)
class Callable:
    name: str
    request: type[pydantic.BaseModel]
    response: type[pydantic.BaseModel]
    # (code, when) besides unauthenticated, invalid-argument and internal, which every callable
    # may answer; codes from mediajobs/error_codes.py (scope callable). For the contract's table.
    errors: tuple[tuple[str, str], ...] = ()


def callables(kinds: list[JobType]) -> list[Callable]:
    from mediajobs.downloads import DownloadUrlRequest
    from mediajobs.jobs.api import CancelJobRequest
    from mediajobs.photos.auto.backfill import AutoBackfill
    from mediajobs.scenes import models as scenes
    from mediajobs.scenes.scene_deletion import DeleteScene
    from mediajobs.scenes.storyboard import GenerateStoryboard
    from mediajobs.video.captions import SetCaption
    from mediajobs.video.library import UpdateVideo, VideoRef
    from mediajobs.video.stills import VideoThumbnail

    not_yours = "missing or not yours (both answer alike)"
    return [
        Callable("start_job", start_job_request(kinds), JobIdResponse, (
            ("permission-denied", "an admin-only type, someone else's files, selftest disabled"),
            ("failed-precondition", "a photo `model` not installed in this deployment (the message lists "
             "the installed ones)"),
            ("resource-exhausted", "`MAX_ACTIVE_JOBS_PER_USER` active jobs, a list over its limit, "
             "a paid type over the daily generation budget"),
            ("aborted", "too many starts at once: retry"),
        )),
        Callable("cancel_job", CancelJobRequest, CancelJobResponse, (
            ("permission-denied", "no such job, or not yours and you are not an admin"),
        )),
        Callable("create_project", scenes.CreateProject, ProjectIdResponse),
        Callable("update_project", scenes.UpdateProject, ProjectIdResponse, (("not-found", not_yours),)),
        Callable("delete_project", scenes.ProjectRef, ProjectIdResponse, (("not-found", not_yours),)),
        Callable("add_scene", scenes.AddScene, SceneIdResponse, (("not-found", not_yours),)),
        Callable("update_scene", scenes.UpdateScene, SceneIdResponse, (
            ("not-found", f"project or scene {not_yours}"),
        )),
        Callable("delete_scene", DeleteScene, SceneIdResponse, (
            ("not-found", f"project or scene {not_yours}"),
        )),
        Callable("generate_scene_asset", scenes.GenerateSceneAsset, JobIdResponse, (
            ("not-found", f"project or scene {not_yours}"),
            ("failed-precondition", "the scene already has an active job: wait for it or cancel it"),
            ("resource-exhausted", "daily generation budget, active jobs"),
            ("aborted", "too many starts at once: retry"),
        )),
        Callable("generate_storyboard", GenerateStoryboard, JobIdResponse, (
            ("not-found", not_yours),
            ("failed-precondition", "the project has no scenes"),
            ("resource-exhausted", "daily generation budget (scenes x missing kinds), active jobs, too many scenes"),
        )),
        Callable("select_take", scenes.SelectTake, SelectTakeResponse, (
            ("not-found", f"project, scene or take {not_yours} (a take of another scene too)"),
        )),
        Callable("download_url", DownloadUrlRequest, DownloadUrlResponse, (
            ("not-found", "an object missing, or a job, project or video that is not yours"),
            ("permission-denied", "someone else's uploads, exports for non-admins, any other prefix"),
        )),
        Callable("update_video", UpdateVideo, VideoIdResponse, (("not-found", not_yours),)),
        Callable("delete_video", VideoRef, VideoIdResponse, (("not-found", not_yours),)),
        Callable("set_caption", SetCaption, VideoIdResponse, (
            ("not-found", not_yours),
            ("failed-precondition", "the video is not ready or has no HLS stream"),
        )),
        Callable("video_thumbnail", VideoThumbnail, VideoThumbnailResponse, (
            ("not-found", "the video is missing, or not yours and not public"),
            ("failed-precondition", "the video is not ready"),
        )),
        Callable("auto_backfill", AutoBackfill, AutoBackfillResponse, (
            ("permission-denied", "not an admin"),
        )),
        Callable("webhook_secret", WebhookSecretRequest, WebhookSecretResponse),
        Callable("register_device", RegisterDeviceRequest, RegisterDeviceResponse),
        Callable("set_notification_settings", NotificationDefaults, NotificationSettingsResponse),
    ]  # fmt: skip
