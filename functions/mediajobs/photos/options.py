"""The options of a `photo_batch` job: what is done to each photo and how it is delivered.

Older names keep working: `crop_face: true` is `crop: "face"`, `face_margin` is the face crop's
margin, `output_format` is the format (now with "jpg"). A job document holds the options as
validated, so `crop` and `crop_face` always agree there.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pydantic

from mediajobs import storage_paths
from mediajobs.photos.models_catalogue import ModelName, default_model
from mediajobs.validation import StrictModel

CropMode = Literal["none", "face", "subject"]
OutputFormat = Literal["png", "webp", "jpg"]
SizePreset = Literal["original", 512, 1024, 2048]
OutputKind = Literal["cutout", "mask"]
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
BACKGROUND_TEXT = r"^(transparent|#[0-9a-fA-F]{6})$"
BACKGROUND_HINT = "bg must be 'transparent', a colour '#rrggbb' or {\"image\": <a storage path of yours>}"


class BackgroundImage(StrictModel):
    """An image of the caller's own in Storage, cover-fitted behind the subject."""

    image: str = pydantic.Field(description="storage path under users/{uid}/ or uploads/{uid}/")

    @pydantic.field_validator("image")
    @classmethod
    def path_is_plain(cls, path: str) -> str:
        if problem := storage_paths.path_problem(path):
            raise ValueError(f"{path!r} is not a valid storage path: {problem}")
        return path


def _background(value: Any) -> Any:
    if isinstance(value, str):
        if value == "transparent" or COLOUR.fullmatch(value):
            return value.lower()
        raise ValueError(f"{value!r}: {BACKGROUND_HINT}")
    if not isinstance(value, dict | BackgroundImage):
        raise ValueError(BACKGROUND_HINT)
    return value


Background = Annotated[
    Annotated[Annotated[str, pydantic.StringConstraints(pattern=BACKGROUND_TEXT)], pydantic.Tag("colour")]
    | Annotated[BackgroundImage, pydantic.Tag("image")],
    pydantic.Discriminator(lambda value: "colour" if isinstance(value, str) else "image"),
    pydantic.BeforeValidator(_background),
]


def _size(value: Any) -> Any:
    """A preset sent as text (a form field of /upload) is read as its number."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


class PhotoOptions(StrictModel):
    remove_bg: bool = True
    crop_face: bool = False  # the older name of crop: "face"
    crop: CropMode = "none"
    crop_margin: float | None = pydantic.Field(default=None, ge=0.0, le=2.0)
    model: ModelName = pydantic.Field(
        default_factory=default_model,
        validate_default=True,
        description="Default: the param PHOTO_DEFAULT_MODEL (u2netp unless set). start_job refuses a model "
        "not installed in the deployment (failed-precondition).",
    )
    output_format: OutputFormat = "png"
    face_size: int = pydantic.Field(default=512, ge=64, le=4096)
    face_margin: float = pydantic.Field(default=0.4, ge=0.0, le=2.0)
    bg: Background = "transparent"
    size: Annotated[SizePreset, pydantic.BeforeValidator(_size)] = "original"
    output: OutputKind = "cutout"

    @pydantic.model_validator(mode="after")
    def consistent(self) -> PhotoOptions:
        crop = self.crop if "crop" in self.model_fields_set else ("face" if self.crop_face else "none")
        if self.crop_face and crop != "face":
            raise ValueError(f"crop_face: true conflicts with crop: {crop!r}; send crop alone")
        if crop == "face" and self.crop_margin is not None and "face_margin" in self.model_fields_set:
            raise ValueError("crop_margin and face_margin both set: send crop_margin alone")
        if not self.remove_bg and crop == "none" and self.size == "original":
            raise ValueError("nothing to do: set remove_bg, crop (or crop_face) and/or size")
        if self.output == "mask":
            if not self.remove_bg:
                raise ValueError("output: 'mask' is the removed background's mask; it needs remove_bg: true")
            if self.output_format != "png" or self.bg != "transparent":
                raise ValueError("output: 'mask' is always a PNG with no background; leave output_format and bg out")
        elif self.remove_bg and self.output_format == "jpg" and self.bg == "transparent":
            raise ValueError(
                "output_format: 'jpg' has no transparency; set bg to a colour (e.g. '#ffffff') or an image, "
                "or use 'png' or 'webp'"
            )
        # the two names agree in every validated copy (and so in the job document); the model is
        # frozen to its users, not to its own validator
        self.__dict__.update(crop=crop, crop_face=crop == "face")
        return self

    @property
    def margin(self) -> float:
        """The crop's margin, a share of the cropped box's longer side on each side."""
        if self.crop_margin is not None:
            return self.crop_margin
        return self.face_margin if self.crop == "face" else 0.0

    @property
    def long_edge(self) -> int | None:
        return None if self.size == "original" else int(self.size)

    @property
    def background_path(self) -> str | None:
        return self.bg.image if isinstance(self.bg, BackgroundImage) else None

    @property
    def extension(self) -> str:
        return "png" if self.output == "mask" else self.output_format
