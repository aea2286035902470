"""A video replaced after its job was planned (issue #25, 3), against the real Storage emulator.

The owner may overwrite an upload at any time (storage.rules allow `update`). The plan pins the
object's generation; every item downloads that generation only, so a file swapped in after the
probe (longer, larger, never checked against the limits) is never processed: each item fails
with `source-changed`. Deterministic: the kind's own plan and items run in this process, with
the overwrite between them, rather than racing the item queue through the stack.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mediajobs import cloud
from mediajobs.cli import client
from mediajobs.jobs.kinds import Item, ItemFailed, ItemSpec
from mediajobs.jobs.models import Job
from mediajobs.video.kind import VideoProcessJob
from mediajobs.video.models import VideoInput, VideoOptions
from tests.integration.test_video import make_video, put

OPTIONS = VideoOptions(renditions=[240], thumbnails=1, hls=True, dash=False, mobile=True)


class Context:
    def __init__(self, job: Job) -> None:
        self.job = job

    def cancelled(self) -> bool:
        return False

    def heartbeat(self, fraction: float | None = None, current: str | None = None) -> None:
        pass

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        pass


def planned(user: client.User, path: str) -> tuple[Job, list[ItemSpec]]:
    job = Job(id=f"swap-{uuid.uuid4().hex[:10]}", type="video_process", owner_uid=user.uid,
              input={"path": path}, options=OPTIONS.model_dump())  # fmt: skip
    return job, list(VideoProcessJob().plan(job, VideoInput(path=path), OPTIONS))


def run_item(job: Job, spec: ItemSpec) -> dict[str, Any]:
    item = Item(id=spec.id, label=spec.label, payload=spec.payload, attempt=1)
    return VideoProcessJob().process_item(Context(job), item, VideoInput(path=job.input["path"]), OPTIONS)


def outputs(job: Job) -> list[str]:
    return [blob.name for blob in cloud.bucket().list_blobs(prefix=f"videos/{job.id}/")]


def test_a_video_replaced_after_planning_fails_every_item_with_source_changed(user: client.User) -> None:
    path = put(user, "clip.mp4", make_video(2, size="320x240"))
    probed = cloud.bucket().get_blob(path)
    job, specs = planned(user, path)
    assert {spec.id for spec in specs} == {"thumbnails", "r0240", "audio", "mobile"}

    # The owner overwrites the upload with a longer, larger video once the items are planned.
    cloud.bucket().blob(path).upload_from_string(make_video(12, size="640x480"), content_type="video/mp4")
    assert cloud.bucket().get_blob(path).generation != probed.generation

    for spec in specs:
        with pytest.raises(ItemFailed) as failure:
            run_item(job, spec)
        assert failure.value.code == "source-changed", (spec.id, failure.value.message)
        assert "replaced after this job started" in failure.value.message
        assert "start a new job" in failure.value.message
    assert outputs(job) == []


def test_an_unchanged_video_is_read_at_its_planned_generation(user: client.User) -> None:
    path = put(user, "clip.mp4", make_video(2, size="320x240"))
    job, specs = planned(user, path)
    try:
        result = run_item(job, next(spec for spec in specs if spec.id == "thumbnails"))
        assert len(result["thumbnails"]) == 1 and result["poster"] in outputs(job)
    finally:
        cloud.bucket().delete_blobs(list(cloud.bucket().list_blobs(prefix=f"videos/{job.id}/")))


def test_a_video_deleted_after_planning_is_input_missing_not_source_changed(user: client.User) -> None:
    path = put(user, "clip.mp4", make_video(2, size="320x240"))
    job, specs = planned(user, path)
    cloud.bucket().blob(path).delete()

    with pytest.raises(ItemFailed) as failure:
        run_item(job, specs[0])
    assert failure.value.code == "input-missing"
