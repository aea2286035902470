"""`storyboard_assets` jobs: every missing asset of every scene of a project, scenes in parallel.

input    {project_id, kinds?: [composition, image, video, audio]}   (callable `generate_storyboard`)
items    one per scene; each generates the scene's missing kinds one after another
result   {scenes, completed_scenes, generated, already_there, failed_scenes}

What it costs: the scenes' asset kinds still missing when the job is created (scenes times
kinds at most), charged to the daily budget then (`paid_generations`); the job generates only
the scenes that existed then, and skips kinds made meanwhile, so it never spends more.

One active job per scene: an item first claims its scene's `active_job` (refused while another
job is active there; it waits a little, then lets the task be retried) and holds it, with live
kind and progress, until the scene is done; `generate_scene_asset` refuses that scene meanwhile.
Each asset is made exactly as a `scene_asset` job makes it. The project's
`storyboard_job` mirrors the job (status, scenes done of total, percent) for clients.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, ClassVar

import pydantic
from firebase_functions import https_fn
from google.api_core import exceptions as gexc
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs.kinds import (
    Caller,
    Item,
    ItemCancelled,
    ItemContext,
    ItemFailed,
    ItemSpec,
    JobFailed,
    JobKind,
    Outcome,
    Summary,
    TransientError,
)
from mediajobs.jobs.models import ACTIVE_STATUSES, ErrorInfo, Job
from mediajobs.jobs.notify.models import NotifySettings
from mediajobs.jobs.store import now
from mediajobs.scenes.kind import NoOptions, SceneAssetInput, SceneAssetJob
from mediajobs.scenes.models import ASSET_KINDS, DOC_ID, AssetKind, TakeParams
from mediajobs.scenes.params import GenerationParams, refusal
from mediajobs.scenes.project_guard import cancellation_wins
from mediajobs.validation import StrictModel

SERVER_TIMESTAMP: Any = gfs.SERVER_TIMESTAMP
MAX_SCENES = 200
ACTIVE = tuple(sorted(ACTIVE_STATUSES))  # the engine's: queued, processing
STALE_SECONDS = 15 * 60  # as generate_scene_asset: an active job without news this long may be replaced
BUSY_WAIT_SECONDS = 60  # then the task is retried later, freeing its queue slot
SCENE_WRITE_SECONDS = 1.0  # Firestore's sustained rate per document


class StoryboardInput(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    kinds: list[AssetKind] = pydantic.Field(default_factory=lambda: list(ASSET_KINDS), min_length=1, max_length=4)
    params: GenerationParams = pydantic.Field(
        default_factory=GenerationParams, description="Applied to every kind made; each kind must take them."
    )

    @pydantic.field_validator("kinds")
    @classmethod
    def in_generation_order(cls, kinds: list[AssetKind]) -> list[AssetKind]:
        return [k for k in ASSET_KINDS if k in kinds]

    @pydantic.model_validator(mode="after")
    def _params_fit_every_kind(self) -> StoryboardInput:
        if (problem := _params_refusal(self.kinds, self.params)) is not None:
            raise ValueError(problem)
        return self


def _params_refusal(kinds: list[AssetKind], params: GenerationParams) -> str | None:
    if params.version is not None and len(kinds) != 1:
        return "version pins one model: send it with exactly one kind in kinds"
    for kind in kinds:
        if (problem := refusal(kind, params)) is not None:
            return f"{problem}; leave {kind} out of kinds or drop the parameter"
    return None


def _project_ref(project_id: str) -> Any:
    return cloud.db().collection("projects").document(project_id)


def _scenes(project_id: str) -> list[Any]:
    """The project's scene snapshots, MAX_SCENES + 1 at most (one more tells there are too many)."""
    return list(_project_ref(project_id).collection("scenes").limit(MAX_SCENES + 1).stream())


def _missing(scene: dict[str, Any], kinds: list[AssetKind]) -> list[AssetKind]:
    assets = scene.get("assets") or {}
    return [k for k in kinds if not assets.get(f"{k}_path")]


class StoryboardAssetsJob(JobKind):
    job_type: ClassVar[str] = "storyboard_assets"
    Input = StoryboardInput
    Options = NoOptions
    queue: ClassVar[str] = "sceneitems"
    paid: ClassVar[bool] = True

    def paid_generations(self, input: StoryboardInput) -> int:
        """The asset kinds its scenes lack now: at most scenes x kinds predictions."""
        return sum(len(_missing(scene.to_dict() or {}, input.kinds)) for scene in _scenes(input.project_id))

    def project_of(self, input: StoryboardInput) -> str | None:
        return input.project_id

    def input_denial(self, caller: Caller, input: StoryboardInput, options: NoOptions) -> str | None:
        snapshot = _project_ref(input.project_id).get()
        if not snapshot.exists or (snapshot.to_dict() or {}).get("user_id") != caller.uid:
            return f"Project {input.project_id} does not exist or is not yours."
        scenes = _scenes(input.project_id)  # refused at once, as the contract says, not by the plan
        if not scenes:
            raise https_fn.HttpsError(
                https_fn.FunctionsErrorCode.FAILED_PRECONDITION,
                f"Project {input.project_id} has no scenes to generate: add a scene first.",
            )
        if len(scenes) > MAX_SCENES:
            raise https_fn.HttpsError(
                https_fn.FunctionsErrorCode.RESOURCE_EXHAUSTED,
                f"A storyboard job generates at most {MAX_SCENES} scenes; this project has more.",
            )
        return None

    def plans_quickly(self, input: StoryboardInput) -> bool:
        return True  # one query of at most MAX_SCENES scenes

    def plan(self, job: Job, input: StoryboardInput, options: NoOptions) -> Iterable[ItemSpec]:
        scenes = _scenes(input.project_id)
        if job.created_at is not None:  # only the scenes charged when the job was created
            scenes = [s for s in scenes if s.create_time is None or s.create_time <= job.created_at]
        if not scenes:
            raise JobFailed("failed-precondition", f"Project {input.project_id} has no scenes to generate.")
        if len(scenes) > MAX_SCENES:
            raise JobFailed("resource-exhausted", f"A storyboard job generates at most {MAX_SCENES} scenes.")
        scenes.sort(key=lambda s: ((s.to_dict() or {}).get("scene_number") or 0, s.id))
        for snapshot in scenes:
            title = str((snapshot.to_dict() or {}).get("title") or snapshot.id)
            yield ItemSpec(id=snapshot.id, label=f"scene {title}"[:200], payload={"scene_id": snapshot.id})

    def on_job_change(self, job_id: str, job: dict[str, Any]) -> None:
        mirror_job_to_project(job_id, job)

    def process_item(self, ctx: ItemContext, item: Item, input: StoryboardInput, options: NoOptions) -> dict[str, Any]:
        scene_id = str(item.payload["scene_id"])
        scene_ref = _project_ref(input.project_id).collection("scenes").document(scene_id)
        with cancellation_wins(ctx.job.id):  # e.g. the scene deleted by delete_project
            missing = _claim_scene(ctx, scene_ref, input.kinds)
        generated: list[dict[str, Any]] = []
        try:
            for index, kind in enumerate(missing):
                scene_ctx = _SceneContext(ctx, scene_ref, kind, index, len(missing))
                scene_ctx.show("processing", force=True)
                asset_input = SceneAssetInput(project_id=input.project_id, scene_id=scene_id, kind=kind,
                                              params=input.params)  # fmt: skip
                result = SceneAssetJob().process_item(scene_ctx, item, asset_input, options)
                generated.append(result)
        except ItemFailed as failure:
            _release_scene(ctx.job.id, scene_ref, "failed", failure.message)
            raise
        except ItemCancelled:
            _release_scene(ctx.job.id, scene_ref, "cancelled", None)
            raise
        except Exception:
            _release_scene(ctx.job.id, scene_ref, "failed", "Interrupted; the job tries again or ends.")
            raise
        _release_scene(ctx.job.id, scene_ref, "completed", None)
        return {
            "scene_id": scene_id,
            "generated": [g["kind"] for g in generated],
            "already_there": [k for k in input.kinds if k not in missing],
            "paths": {g["kind"]: g["path"] for g in generated},
            "takes": {g["kind"]: g["take_id"] for g in generated},
        }

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        records = list(summary.items())
        done = [r.result for r in records if r.status == "done" and r.result]
        result = {
            "scenes": summary.total,
            "completed_scenes": len(done),
            "generated": sum(len(r.get("generated", [])) for r in done),
            "already_there": sum(len(r.get("already_there", [])) for r in done),
            "failed_scenes": [r.id for r in records if r.status == "failed"][:200],
        }
        outcome = Outcome(result)
        if summary.total and not done and summary.failed:
            outcome = Outcome(result, ErrorInfo(code="all-items-failed", message="No scene could be generated."))
        # The project shows the end even if the engine's change hook is late or lost.
        settled = summary.done + summary.failed + summary.cancelled
        ending = {
            "type": self.job_type,
            "input": job.input,
            "status": "failed" if outcome.error else ("cancelled" if summary.cancelled else "completed"),
            "progress": {"total": summary.total, "done": summary.done, "failed": summary.failed,
                         "percent": 100 if settled >= summary.total else int(100 * settled / max(1, summary.total))},
        }  # fmt: skip
        mirror_job_to_project(job.id, ending)
        return outcome


class _SceneContext:
    """The item's context as one scene_asset step sees it: progress is a slice of the scene's,
    and the scene's `active_job` shows which kind is being made (at most once a second)."""

    def __init__(self, ctx: ItemContext, scene_ref: Any, kind: str, index: int, count: int) -> None:
        self.job = ctx.job
        self._ctx, self._scene_ref, self._kind = ctx, scene_ref, kind
        self._index, self._count = index, count
        self._fraction = 0.0
        self._shown_at = 0.0

    def cancelled(self) -> bool:
        return self._ctx.cancelled()

    def save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._ctx.save_checkpoint(checkpoint)  # one per item: the provider keys it by asset kind

    def heartbeat(self, fraction: float | None = None, current: str | None = None) -> None:
        if fraction is not None:
            self._fraction = max(0.0, min(1.0, fraction))
        overall = (self._index + self._fraction) / self._count
        self._ctx.heartbeat(overall, current)
        self.show("processing")

    def show(self, status: str, force: bool = False) -> None:
        if not force and time.monotonic() - self._shown_at < SCENE_WRITE_SECONDS:
            return
        self._shown_at = time.monotonic()
        percent = int(100 * (self._index + self._fraction) / self._count)
        fields = {
            "active_job.type": self._kind,
            "active_job.status": status,
            "active_job.progress": percent,
            "active_job.last_update": SERVER_TIMESTAMP,
        }
        _update_if_ours(self.job.id, self._scene_ref, fields)


def _scene_busy_with_another_job(active: dict[str, Any], job_id: str) -> bool:
    if not active or active.get("job_id") in (None, job_id) or active.get("status") not in ACTIVE:
        return False
    last = active.get("last_update")
    if last is None or (now() - last).total_seconds() >= STALE_SECONDS:
        return False
    other = cloud.db().collection("jobs").document(str(active["job_id"])).get()
    return bool(other.exists and (other.to_dict() or {}).get("status") in ACTIVE)


def _claim_scene(ctx: ItemContext, scene_ref: Any, kinds: list[AssetKind]) -> list[AssetKind]:
    """Makes this job the scene's active job and returns the kinds it still lacks (a scene that
    lacks none is left as it is); waits a little while another job is active there, then asks
    for a retry (TransientError)."""
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while True:
        if ctx.cancelled():
            raise ItemCancelled()
        snapshot = scene_ref.get()
        if not snapshot.exists:
            raise ItemFailed("not-found", f"Scene {scene_ref.id} no longer exists.")
        data = snapshot.to_dict() or {}
        missing = _missing(data, kinds)
        if not missing:
            return []  # nothing to make here: no claim, no wait
        active = data.get("active_job") or {}
        if not _scene_busy_with_another_job(active, ctx.job.id):
            active_job = {
                "job_id": ctx.job.id,
                "type": missing[0],
                "status": "processing",
                "progress": 0,
                "started_at": SERVER_TIMESTAMP,
                "last_update": SERVER_TIMESTAMP,
                "error_message": None,
                "storyboard": True,
            }
            try:
                scene_ref.update(
                    {"active_job": active_job, "updated_at": SERVER_TIMESTAMP},
                    option=cloud.db().write_option(last_update_time=snapshot.update_time),
                )
            except gexc.FailedPrecondition:  # changed since we read it (a racing start): read again
                continue
            return missing
        if time.monotonic() > deadline:
            raise TransientError(f"Scene {scene_ref.id} is busy with job {active.get('job_id')}; retrying later.")
        ctx.heartbeat(0.0)
        time.sleep(1.0)


def _update_if_ours(job_id: str, scene_ref: Any, fields: dict[str, Any]) -> None:
    @gfs.transactional
    def write(transaction: gfs.Transaction) -> None:
        snapshot = scene_ref.get(transaction=transaction)
        if snapshot.exists and ((snapshot.to_dict() or {}).get("active_job") or {}).get("job_id") == job_id:
            transaction.update(scene_ref, fields)

    write(cloud.db().transaction())


def _release_scene(job_id: str, scene_ref: Any, status: str, message: str | None) -> None:
    fields: dict[str, Any] = {
        "active_job.status": status,
        "active_job.last_update": SERVER_TIMESTAMP,
        "active_job.error_message": message,
    }
    if status == "completed":
        fields["active_job.progress"] = 100
    _update_if_ours(job_id, scene_ref, fields)


def mirror_job_to_project(job_id: str, job: dict[str, Any]) -> None:
    """Shows the storyboard job on its project (`storyboard_job`), newest job and news only."""
    project_id = (job.get("input") or {}).get("project_id")
    if job.get("type") != StoryboardAssetsJob.job_type or not isinstance(project_id, str):
        return
    ref = _project_ref(project_id)
    progress = job.get("progress") or {}
    updated = job.get("updated_at")

    @gfs.transactional
    def write(transaction: gfs.Transaction) -> None:
        snapshot = ref.get(transaction=transaction)
        if not snapshot.exists:
            return
        shown = (snapshot.to_dict() or {}).get("storyboard_job") or {}
        seen = shown.get("job_updated_at")
        if shown.get("job_id") == job_id and seen is not None and updated is not None and seen >= updated:
            return  # stale or duplicate news
        if shown.get("job_id") == job_id and shown.get("status") not in (None, *ACTIVE) and job.get("status") in ACTIVE:
            return  # the end was shown (by finalize); late progress must not move it back
        another_runs = shown.get("job_id") not in (None, job_id) and shown.get("status") in ACTIVE
        if another_runs and job.get("status") not in ACTIVE:
            return  # an older job ending must not hide a newer one that runs
        transaction.update(
            ref,
            {
                "storyboard_job": {
                    "job_id": job_id,
                    "status": job.get("status"),
                    "total_scenes": int(progress.get("total", 0)),
                    "done_scenes": int(progress.get("done", 0)),
                    "failed_scenes": int(progress.get("failed", 0)),
                    "percent": int(progress.get("percent", 0)),
                    "last_update": SERVER_TIMESTAMP,
                    "job_updated_at": updated,
                },
                "stats.last_activity": SERVER_TIMESTAMP,
            },
        )

    write(cloud.db().transaction())


class GenerateStoryboard(TakeParams):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    kinds: list[AssetKind] | None = pydantic.Field(default=None, min_length=1, max_length=4)
    notify: NotifySettings | None = None

    @pydantic.model_validator(mode="after")
    def _params_fit_every_kind(self) -> GenerateStoryboard:
        if (problem := _params_refusal(self.kinds or list(ASSET_KINDS), self.params())) is not None:
            raise ValueError(problem)
        return self


def generate_storyboard(req: https_fn.CallableRequest[Any]) -> dict[str, str]:
    """Starts a storyboard_assets job for the caller's project -> {job_id}."""
    from mediajobs.jobs.api import caller_of, create_job, parse

    caller = caller_of(req)
    request = parse(GenerateStoryboard, req.data)
    job_input: dict[str, Any] = {"project_id": request.project_id}
    if request.kinds is not None:
        job_input["kinds"] = request.kinds
    if params := request.params().chosen():
        job_input["params"] = params
    try:
        return {"job_id": create_job(caller, StoryboardAssetsJob.job_type, job_input, {}, notify=request.notify)}
    except https_fn.HttpsError as error:
        if error.code == https_fn.FunctionsErrorCode.PERMISSION_DENIED:  # not yours answers like missing
            raise https_fn.HttpsError(https_fn.FunctionsErrorCode.NOT_FOUND, error.message) from None
        raise
