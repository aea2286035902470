"""The provider interface: a scene's text in, one asset's bytes out."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from mediajobs.errors import CodedError
from mediajobs.scenes.params import GenerationParams


@dataclasses.dataclass(frozen=True)
class ScenePrompt:
    project_id: str
    scene_id: str
    kind: str  # composition | image | video | audio
    title: str
    description: str
    duration_seconds: float
    brief: dict[str, Any]
    mood: dict[str, Any] | None
    purpose: str = "scene"  # "mood": a composition that invents a mood (name, description, palette)
    params: GenerationParams = dataclasses.field(default_factory=GenerationParams)  # seed, aspect ratio, ...

    def text(self) -> str:
        brief = self.brief or {}
        parts = [
            self.title,
            self.description,
            f"Brand: {brief.get('brand_name', '')}",
            f"Product: {brief.get('product_description', '')}",
            f"Tone: {brief.get('tone', '')}",
            f"Message: {brief.get('key_message', '')}",
        ]
        if self.mood:
            parts.append(f"Mood: {self.mood.get('name', '')} - {self.mood.get('visual_style', '')}")
        return ". ".join(p for p in parts if p and not p.endswith(": "))


@dataclasses.dataclass(frozen=True)
class GeneratedAsset:
    data: bytes
    content_type: str
    extension: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)  # e.g. the composition's fields
    prediction_id: str | None = None  # the provider's id of the generation (Replicate's prediction)
    model: str | None = None  # the model (and pinned version) that made it, as the provider names it


class Control(Protocol):
    def cancelled(self) -> bool: ...

    def progress(self, fraction: float) -> None: ...


class ProviderError(CodedError):
    """Generation failed with a code a person can act on (provider-timeout, provider-failed...)."""


class ProviderCancelled(Exception):
    """The job was cancelled while the provider worked; the remote work was cancelled too."""


class Provider(Protocol):
    name: str

    def generate(self, prompt: ScenePrompt, control: Control) -> GeneratedAsset: ...
