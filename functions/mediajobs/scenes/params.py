"""Generation parameters a creator may set on a scene asset: seed, aspect ratio, negative
prompt and a pinned model version, each only for the asset kinds whose model takes it.

The table below is the contract's (contract/CONTRACT.md, "Generation parameters"): a parameter
sent for a kind that does not take it is refused (`invalid-argument`, naming the kind), never
dropped silently, so a creator never believes a take was shaped in a way it was not.
"""

from __future__ import annotations

from typing import Literal

import pydantic

from mediajobs.validation import StrictModel

ParamName = Literal["seed", "aspect_ratio", "negative_prompt", "version"]
MAX_SEED = 2**32 - 1
VERSION_ID = r"^[0-9a-f]{64}$"  # a Replicate model version id

# Which parameters each kind's model takes (Replicate's inputs of the same names; `version`
# pins the model version the prediction runs).
SUPPORTED: dict[str, tuple[ParamName, ...]] = {
    "composition": ("seed", "version"),
    "image": ("seed", "aspect_ratio", "negative_prompt", "version"),
    "video": ("seed", "aspect_ratio", "negative_prompt", "version"),
    "audio": ("seed", "version"),
}
# The aspect ratios each kind's model allows (flux-schnell's list for images).
ASPECT_RATIOS: dict[str, tuple[str, ...]] = {
    "image": ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"),
    "video": ("16:9", "9:16", "1:1"),
}


class GenerationParams(StrictModel):
    """What shapes a take beyond the scene's text; unset fields are left to the model."""

    seed: int | None = pydantic.Field(
        default=None, ge=0, le=MAX_SEED, strict=True, description="A whole number: the same seed, the same take."
    )
    aspect_ratio: str | None = pydantic.Field(default=None, pattern=r"^\d{1,2}:\d{1,2}$")
    negative_prompt: str | None = pydantic.Field(default=None, min_length=1, max_length=1000)
    version: str | None = pydantic.Field(
        default=None, pattern=VERSION_ID, description="A model version id (64 hex digits) to pin the model to."
    )

    def chosen(self) -> dict[str, str | int]:
        """The parameters set, by name."""
        return self.model_dump(exclude_none=True)

    def given(self) -> list[ParamName]:
        names: tuple[ParamName, ...] = ("seed", "aspect_ratio", "negative_prompt", "version")
        return [name for name in names if getattr(self, name) is not None]


def refusal(kind: str, params: GenerationParams) -> str | None:
    """Why `params` cannot shape a `kind` asset, or None."""
    supported = SUPPORTED.get(kind, ())
    unsupported = [name for name in params.given() if name not in supported]
    if unsupported:
        return (
            f"{', '.join(unsupported)} cannot be set for {kind} assets "
            f"({kind} takes {', '.join(supported) or 'no parameters'})"
        )
    if params.aspect_ratio is not None and params.aspect_ratio not in ASPECT_RATIOS.get(kind, ()):
        allowed = ", ".join(ASPECT_RATIOS.get(kind, ()))
        return f"aspect_ratio {params.aspect_ratio} is not offered for {kind} assets (choose one of {allowed})"
    return None
