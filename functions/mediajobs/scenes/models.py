"""What clients may send to the project callables: validated, with unknown keys rejected."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pydantic

from mediajobs import storage_paths
from mediajobs.jobs.notify.models import NotifySettings
from mediajobs.scenes.params import MAX_SEED, VERSION_ID, GenerationParams, refusal
from mediajobs.validation import StrictModel

AssetKind = Literal["composition", "image", "video", "audio"]
ASSET_KINDS: tuple[AssetKind, ...] = ("composition", "image", "video", "audio")
DOC_ID = r"^[A-Za-z0-9_-]{1,128}$"
CLIENT_ID = r"^[A-Za-z0-9_.:-]{1,128}$"  # ids the old clients made (uuids, "mood-1", ...)
HEX_COLOUR = r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$"
MAX_URL = 2048


class CreativeBrief(StrictModel):
    brand_name: str = pydantic.Field(default="", max_length=200)
    product_description: str = pydantic.Field(default="", max_length=2000)
    target_audience: str = pydantic.Field(default="", max_length=1000)
    key_message: str = pydantic.Field(default="", max_length=1000)
    tone: str = pydantic.Field(default="", max_length=200)
    additional_notes: str = pydantic.Field(default="", max_length=2000)


class _AsGiven(StrictModel):
    """Serialised with exactly the fields the client sent (defaults are not added)."""

    @pydantic.model_serializer(mode="wrap")
    def _only_given(self, handler: pydantic.SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if key in self.model_fields_set}


def _storage_path(value: str | None) -> str | None:
    if value is not None and not storage_paths.is_plain(value):
        raise ValueError(f"{value[:100]!r} is not a storage path")
    return value


StoragePath = Annotated[str, pydantic.Field(min_length=1, max_length=1024), pydantic.AfterValidator(_storage_path)]
WebUrl = Annotated[str, pydantic.Field(max_length=MAX_URL, pattern=r"^https?://")]


class MoodImage(_AsGiven):
    id: str | None = pydantic.Field(default=None, pattern=CLIENT_ID)
    url: WebUrl | None = None
    path: StoragePath | None = None
    prompt: str | None = pydantic.Field(default=None, max_length=2000)


class Mood(_AsGiven):
    """A mood as the original storyboard client embedded it in `storyboard.selected_mood`."""

    id: str = pydantic.Field(pattern=CLIENT_ID)
    name: str = pydantic.Field(min_length=1, max_length=200)
    description: str = pydantic.Field(default="", max_length=2000)
    visual_style: str = pydantic.Field(default="", max_length=500)
    color_palette: list[Annotated[str, pydantic.Field(pattern=HEX_COLOUR)]] = pydantic.Field(
        default_factory=list, max_length=12
    )
    mood_keywords: list[Annotated[str, pydantic.Field(max_length=100)]] = pydantic.Field(
        default_factory=list, max_length=20
    )
    image_path: StoragePath | None = None
    image_paths: list[StoragePath] = pydantic.Field(default_factory=list, max_length=8)
    image_url: WebUrl | None = None
    image: MoodImage | Annotated[str, pydantic.Field(max_length=MAX_URL)] | None = None  # a URL, path or object
    images: list[MoodImage] = pydantic.Field(default_factory=list, max_length=8)


class Storyboard(StrictModel):
    id: str | None = pydantic.Field(default=None, pattern=CLIENT_ID)
    title: str = pydantic.Field(default="", max_length=200)
    creative_brief: CreativeBrief = CreativeBrief()
    selected_mood: Mood | Annotated[str, pydantic.Field(max_length=128)] | None = None
    """A mood id (of projects/{id}/moods) or the embedded Mood object, stored as given."""

    @pydantic.model_serializer(mode="wrap")
    def _without_absent_id(self, handler: pydantic.SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("id") is None:
            data.pop("id", None)
        return data


class CreateProject(StrictModel):
    name: str = pydantic.Field(min_length=1, max_length=200)
    description: str = pydantic.Field(default="", max_length=2000)
    storyboard: Storyboard = Storyboard()


class UpdateProject(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    name: str | None = pydantic.Field(default=None, min_length=1, max_length=200)
    description: str | None = pydantic.Field(default=None, max_length=2000)
    storyboard: Storyboard | None = None


class ProjectRef(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)


class AddScene(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    title: str = pydantic.Field(min_length=1, max_length=200)
    description: str = pydantic.Field(default="", max_length=4000)
    duration_seconds: float = pydantic.Field(gt=0, le=120)
    scene_number: int | None = pydantic.Field(default=None, ge=1, le=1000)


class UpdateScene(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    scene_id: str = pydantic.Field(pattern=DOC_ID)
    title: str | None = pydantic.Field(default=None, min_length=1, max_length=200)
    description: str | None = pydantic.Field(default=None, max_length=4000)
    duration_seconds: float | None = pydantic.Field(default=None, gt=0, le=120)
    scene_number: int | None = pydantic.Field(default=None, ge=1, le=1000)


class TakeParams(StrictModel):
    """The generation parameters of a request, as flat fields (see scenes/params.py)."""

    seed: int | None = pydantic.Field(
        default=None, ge=0, le=MAX_SEED, strict=True, description="A whole number: the same seed, the same take."
    )
    aspect_ratio: str | None = pydantic.Field(
        default=None, pattern=r"^\d{1,2}:\d{1,2}$", description="One of the kind's ratios (contract)."
    )
    negative_prompt: str | None = pydantic.Field(default=None, min_length=1, max_length=1000)
    version: str | None = pydantic.Field(default=None, pattern=VERSION_ID, description="A model version id to pin.")

    def params(self) -> GenerationParams:
        return GenerationParams(seed=self.seed, aspect_ratio=self.aspect_ratio,
                                negative_prompt=self.negative_prompt, version=self.version)  # fmt: skip


class GenerateSceneAsset(TakeParams):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    scene_id: str = pydantic.Field(pattern=DOC_ID)
    kind: AssetKind
    notify: NotifySettings | None = None

    @pydantic.model_validator(mode="after")
    def _params_fit_the_kind(self) -> GenerateSceneAsset:
        if (problem := refusal(self.kind, self.params())) is not None:
            raise ValueError(problem)
        return self


class SelectTake(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    scene_id: str = pydantic.Field(pattern=DOC_ID)
    take_id: str = pydantic.Field(pattern=DOC_ID)
