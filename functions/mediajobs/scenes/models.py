"""What clients may send to the project callables: validated, with unknown keys rejected."""

from __future__ import annotations

from typing import Literal

import pydantic

from mediajobs.validation import StrictModel

AssetKind = Literal["composition", "image", "video", "audio"]
ASSET_KINDS: tuple[AssetKind, ...] = ("composition", "image", "video", "audio")
DOC_ID = r"^[A-Za-z0-9_-]{1,128}$"


class CreativeBrief(StrictModel):
    brand_name: str = pydantic.Field(default="", max_length=200)
    product_description: str = pydantic.Field(default="", max_length=2000)
    target_audience: str = pydantic.Field(default="", max_length=1000)
    key_message: str = pydantic.Field(default="", max_length=1000)
    tone: str = pydantic.Field(default="", max_length=200)
    additional_notes: str = pydantic.Field(default="", max_length=2000)


class Storyboard(StrictModel):
    title: str = pydantic.Field(default="", max_length=200)
    creative_brief: CreativeBrief = CreativeBrief()
    selected_mood: str | None = pydantic.Field(default=None, max_length=128)


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


class GenerateSceneAsset(StrictModel):
    project_id: str = pydantic.Field(pattern=DOC_ID)
    scene_id: str = pydantic.Field(pattern=DOC_ID)
    kind: AssetKind
