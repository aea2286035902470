"""Generation parameters: which kinds take which (scenes/params.py), and what they do to the
offline provider's bytes."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import pydantic
import pytest
from PIL import Image

from mediajobs.scenes.kind import SceneAssetInput
from mediajobs.scenes.params import ASPECT_RATIOS, SUPPORTED, GenerationParams, refusal
from mediajobs.scenes.providers import local
from mediajobs.scenes.providers.base import ScenePrompt
from mediajobs.scenes.storyboard import GenerateStoryboard, StoryboardInput

PROMPT = ScenePrompt("p", "s", "image", "Opening", "A bottle at dawn", 3, {"tone": "calm"},
                     {"name": "Calm", "color_palette": ["#112233", "#445566"]})  # fmt: skip


def with_params(kind: str = "image", **params: object) -> ScenePrompt:
    return dataclasses.replace(PROMPT, kind=kind, params=GenerationParams.model_validate(params))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_kind_takes_seed_and_version_and_only_images_and_videos_take_the_rest() -> None:
    assert all({"seed", "version"} <= set(names) for names in SUPPORTED.values())
    assert refusal("audio", GenerationParams(aspect_ratio="16:9")) is not None
    assert "for audio assets" in (refusal("audio", GenerationParams(negative_prompt="x")) or "")
    assert "for composition assets" in (refusal("composition", GenerationParams(aspect_ratio="1:1")) or "")
    assert (
        refusal("image", GenerationParams(seed=1, aspect_ratio="9:21", negative_prompt="x", version="a" * 64)) is None
    )
    assert "choose one of 16:9, 9:16, 1:1" in (refusal("video", GenerationParams(aspect_ratio="4:3")) or "")
    assert set(ASPECT_RATIOS) == {kind for kind, names in SUPPORTED.items() if "aspect_ratio" in names}


@pytest.mark.parametrize(
    "params",
    [{"seed": -1}, {"seed": 2**32}, {"seed": "7"}, {"version": "A" * 64}, {"version": "abc"},
     {"negative_prompt": ""}, {"aspect_ratio": "wide"}, {"temperature": 1}],
)  # fmt: skip
def test_malformed_parameters_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        GenerationParams.model_validate(params)


def test_job_inputs_refuse_parameters_their_kinds_do_not_take() -> None:
    with pytest.raises(pydantic.ValidationError, match="cannot be set for audio"):
        SceneAssetInput.model_validate({"project_id": "p", "scene_id": "s", "kind": "audio",
                                        "params": {"aspect_ratio": "16:9"}})  # fmt: skip
    with pytest.raises(pydantic.ValidationError, match="exactly one kind"):
        StoryboardInput.model_validate(
            {"project_id": "p", "kinds": ["image", "video"], "params": {"version": "a" * 64}}
        )
    with pytest.raises(pydantic.ValidationError, match="leave composition out of kinds"):
        GenerateStoryboard.model_validate({"project_id": "p", "aspect_ratio": "16:9"})
    ok = GenerateStoryboard.model_validate({"project_id": "p", "kinds": ["video", "image"], "aspect_ratio": "16:9"})
    assert ok.params().chosen() == {"aspect_ratio": "16:9"}


def test_the_same_seed_gives_the_same_bytes_and_another_seed_others_even_with_a_fixed_palette() -> None:
    for kind, make in (("image", local.image_png), ("audio", local.audio_wav)):
        one, again, other = (make(with_params(kind, seed=seed)) for seed in (5, 5, 6))
        assert digest(one) == digest(again) and digest(one) != digest(other), kind
        unseeded = make(with_params(kind))
        assert digest(unseeded) == digest(make(with_params(kind))) and digest(unseeded) != digest(one), kind
    first, second = (local.composition(with_params("composition", seed=seed)).details for seed in (1, 2))
    assert local.composition(with_params("composition", seed=1)).details == first
    assert first["description"] == second["description"]  # the scene's text; seeded choices may differ


@pytest.mark.parametrize(("ratio", "size"), [("1:1", (1024, 1024)), ("9:16", (576, 1024)), ("21:9", (1024, 438))])
def test_the_aspect_ratio_sets_the_frame(ratio: str, size: tuple[int, int]) -> None:
    assert Image.open(io.BytesIO(local.image_png(with_params(aspect_ratio=ratio)))).size == size
    assert Image.open(io.BytesIO(local.image_png(PROMPT))).size == (1024, 576)  # the default stays
