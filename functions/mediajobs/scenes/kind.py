"""`scene_asset` and `mood_board` jobs: generate through a provider, keep every output in Storage.

A scene's asset is kept as a take (scenes/takes.py), which becomes the selected one: its
`assets.<kind>_path` is set (in a transaction on the scene) only once the asset's bytes are in
Storage, and before the job completes; a provider URL is never stored.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any, ClassVar

import pydantic
from google.cloud import firestore as gfs

from mediajobs import cloud
from mediajobs.jobs.docstore import Guard
from mediajobs.jobs.kinds import (
    Caller,
    Item,
    ItemCancelled,
    ItemContext,
    ItemFailed,
    ItemSpec,
    JobKind,
    Outcome,
    Summary,
)
from mediajobs.jobs.models import ErrorInfo, ItemStatus, Job
from mediajobs.scenes import takes
from mediajobs.scenes.models import DOC_ID, AssetKind
from mediajobs.scenes.moods import PartOf, selected_mood_of
from mediajobs.scenes.params import GenerationParams, refusal
from mediajobs.scenes.project_guard import cancellation_wins, write_in_live_project
from mediajobs.scenes.providers import get_provider, get_provider_name
from mediajobs.scenes.providers.base import GeneratedAsset, ProviderCancelled, ProviderError, ScenePrompt
from mediajobs.validation import StrictModel

SERVER_TIMESTAMP: Any = gfs.SERVER_TIMESTAMP


class SceneAssetInput(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    scene_id: str = pydantic.Field(pattern=DOC_ID)
    kind: AssetKind
    params: GenerationParams = pydantic.Field(
        default_factory=GenerationParams, description="Seed, aspect ratio, ... where the kind takes them."
    )

    @pydantic.model_validator(mode="after")
    def _params_fit_the_kind(self) -> SceneAssetInput:
        if (problem := refusal(self.kind, self.params)) is not None:
            raise ValueError(problem)
        return self


class MoodBoardInput(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    count: int = pydantic.Field(default=4, ge=1, le=12)


class NoOptions(StrictModel):
    pass


class _Control:
    def __init__(self, ctx: ItemContext, item: Item | None = None, key: str = "asset") -> None:
        from mediajobs.scenes.providers.replicate_provider import ItemCheckpoint

        self._ctx = ctx
        self.checkpoint = ItemCheckpoint(ctx, item, key) if item else None  # a retry resumes its prediction

    def cancelled(self) -> bool:
        return self._ctx.cancelled()

    def progress(self, fraction: float) -> None:
        self._ctx.heartbeat(fraction)


def _project(project_id: str) -> dict[str, Any]:
    snapshot = cloud.db().collection("projects").document(project_id).get()
    if not snapshot.exists:
        raise ItemFailed("not-found", f"Project {project_id} no longer exists.")
    return dict(snapshot.to_dict() or {})


def _project_and_scene(project_id: str, scene_id: str) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """The project, the scene's reference and the scene, read in one round trip."""
    db = cloud.db()
    project_ref = db.collection("projects").document(project_id)
    scene_ref = project_ref.collection("scenes").document(scene_id)
    found = {snapshot.reference.path: snapshot for snapshot in db.get_all([project_ref, scene_ref])}
    project, scene = found.get(project_ref.path), found.get(scene_ref.path)
    if project is None or not project.exists:
        raise ItemFailed("not-found", f"Project {project_id} no longer exists.")
    if scene is None or not scene.exists:
        raise ItemFailed("not-found", f"Scene {scene_id} no longer exists.")
    return dict(project.to_dict() or {}), scene_ref, dict(scene.to_dict() or {})


def _owns(caller: Caller, project_id: str) -> str | None:
    snapshot = cloud.db().collection("projects").document(project_id).get()
    if not snapshot.exists or (snapshot.to_dict() or {}).get("user_id") != caller.uid:
        return f"Project {project_id} does not exist or is not yours."
    return None


def _generate(
    prompt: ScenePrompt, ctx: ItemContext, item: Item | None = None, share: tuple[float, float] = (0, 1)
) -> GeneratedAsset:
    """The provider's asset for `prompt`; an item's retry resumes the prediction its earlier
    attempt started for the same kind of prompt (a mood item makes a text, then an image)."""
    try:
        return get_provider().generate(prompt, PartOf(_Control(ctx, item, key=prompt.kind), *share))
    except ProviderCancelled:
        raise ItemCancelled() from None
    except ProviderError as error:
        raise ItemFailed(error.code, error.message) from None


def _thumbnail(png: bytes) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.thumbnail((320, 320))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class _ProjectJob(JobKind):
    """Generation for one of the caller's projects; items mostly wait on the provider."""

    Options = NoOptions
    queue: ClassVar[str] = "sceneitems"
    paid: ClassVar[bool] = True  # every item asks the provider for predictions

    def input_denial(self, caller: Caller, input: SceneAssetInput | MoodBoardInput, options: NoOptions) -> str | None:
        return _owns(caller, input.project_id)

    def project_of(self, input: SceneAssetInput | MoodBoardInput) -> str | None:
        return input.project_id

    def plans_quickly(self, input: SceneAssetInput | MoodBoardInput) -> bool:
        return True  # one asset, or a dozen moods at most


class SceneAssetJob(_ProjectJob):
    job_type: ClassVar[str] = "scene_asset"
    Input = SceneAssetInput

    def paid_generations(self, input: SceneAssetInput) -> int:
        return 1

    def creation_guard(self, job_id: str, input: dict[str, Any]) -> Guard | None:
        from mediajobs.scenes.api import one_active_job_per_scene

        return one_active_job_per_scene(job_id, input)  # however the job is started

    def plan(self, job: Job, input: SceneAssetInput, options: NoOptions) -> Iterable[ItemSpec]:
        yield ItemSpec(id="asset", label=f"{input.kind} of scene {input.scene_id}")

    def on_job_change(self, job_id: str, job: dict[str, Any]) -> None:
        from mediajobs.scenes.mirror import mirror_job_to_scene

        mirror_job_to_scene(job_id, job)

    def process_item(self, ctx: ItemContext, item: Item, input: SceneAssetInput, options: NoOptions) -> dict[str, Any]:
        with cancellation_wins(ctx.job.id):
            return self._make_asset(ctx, item, input)

    def _make_asset(self, ctx: ItemContext, item: Item, input: SceneAssetInput) -> dict[str, Any]:
        project, scene_ref, scene = _project_and_scene(input.project_id, input.scene_id)
        storyboard = project.get("storyboard") or {}
        mood = selected_mood_of(input.project_id, storyboard)
        prompt = ScenePrompt(
            project_id=input.project_id, scene_id=input.scene_id, kind=input.kind,
            title=str(scene.get("title", "")), description=str(scene.get("description", "")),
            duration_seconds=float(scene.get("duration_seconds") or 5), brief=storyboard.get("creative_brief") or {},
            mood=mood, params=input.params,
        )  # fmt: skip
        asset = _generate(prompt, ctx, item)
        folder = f"projects/{input.project_id}/scenes/{input.scene_id}/{input.kind}"
        path = f"{folder}/{ctx.job.id}.{asset.extension}"  # one path per take: takes never overwrite
        bucket = cloud.bucket()
        bucket.blob(path).upload_from_string(asset.data, content_type=asset.content_type)
        stored, thumb = [path], None
        if input.kind == "image":
            thumb = f"{folder}/{ctx.job.id}-thumb.png"
            bucket.blob(thumb).upload_from_string(_thumbnail(asset.data), content_type="image/png")
            stored.append(thumb)
        take_id = takes.take_id_of(ctx.job.id, input.kind)
        take = {
            "kind": input.kind, "job_id": ctx.job.id, "path": path, "thumbnail_path": thumb,
            "content_type": asset.content_type, "size": len(asset.data),
            "prompt": prompt.text()[: takes.MAX_PROMPT_CHARS], "params": input.params.chosen(),
            "provider": get_provider_name(), "model": asset.model, "prediction_id": asset.prediction_id,
            "composition": asset.details if input.kind == "composition" else None,
        }  # fmt: skip
        takes.record_take(input.project_id, scene_ref, take_id, take, stored)
        return {"kind": input.kind, "path": path, "content_type": asset.content_type, "size": len(asset.data),
                "take_id": take_id}  # fmt: skip

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        records = list(summary.items())
        result = dict(records[0].result or {}) if records and records[0].status == ItemStatus.DONE else {}
        if summary.failed:
            error = records[0].error if records else None
            return Outcome(result, error or ErrorInfo(code="failed", message="The asset could not be generated."))
        return Outcome(result)


class MoodBoardJob(_ProjectJob):
    job_type: ClassVar[str] = "mood_board"
    Input = MoodBoardInput

    def paid_generations(self, input: MoodBoardInput) -> int:
        return input.count  # one per mood image (its text is not counted)

    def plan(self, job: Job, input: MoodBoardInput, options: NoOptions) -> Iterable[ItemSpec]:
        for index in range(input.count):
            yield ItemSpec(id=f"mood-{index}", label=f"mood {index + 1} of {input.count}", payload={"index": index})

    def process_item(self, ctx: ItemContext, item: Item, input: MoodBoardInput, options: NoOptions) -> dict[str, Any]:
        with cancellation_wins(ctx.job.id):
            return self._make_mood(ctx, item, input)

    def _make_mood(self, ctx: ItemContext, item: Item, input: MoodBoardInput) -> dict[str, Any]:
        from mediajobs.scenes import moods

        project = _project(input.project_id)
        storyboard = project.get("storyboard") or {}
        brief = storyboard.get("creative_brief") or {}
        index = int(item.payload["index"])
        mood_id = f"{ctx.job.id}-{index}"
        written = _generate(
            moods.mood_prompt(input.project_id, mood_id, index, input.count, brief), ctx, item, (0, 0.3)
        )
        mood = moods.mood_from_text(written.details, f"{project.get('name', '')} {brief.get('brand_name', '')}")
        asset = _generate(moods.image_prompt(input.project_id, mood_id, mood, brief), ctx, item, (0.3, 1))
        image_path = f"projects/{input.project_id}/moods/{mood_id}/{ctx.job.id}-{index}.{asset.extension}"
        cloud.bucket().blob(image_path).upload_from_string(asset.data, content_type=asset.content_type)
        mood_ref = cloud.db().collection("projects").document(input.project_id).collection("moods").document(mood_id)
        document = {**mood, "id": mood_id, "image_paths": [image_path], "created_at": SERVER_TIMESTAMP}
        write_in_live_project(
            input.project_id,
            lambda batch: batch.set(mood_ref, document),
            [image_path],
        )
        return {"mood_id": mood_id, "image_path": image_path}

    def finalize(self, job: Job, summary: Summary) -> Outcome:
        moods = [r.result for r in summary.items() if r.status == ItemStatus.DONE and r.result]
        outcome = super().finalize(job, summary)
        return Outcome({**outcome.result, "moods": moods}, outcome.error)
