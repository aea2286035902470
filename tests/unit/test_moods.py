"""Moods written by a composition model (or the offline provider), read into valid moods."""

from __future__ import annotations

import json

import pytest

from mediajobs.scenes import moods
from mediajobs.scenes.models import Mood, Storyboard
from mediajobs.scenes.providers.local import LocalProvider


class Control:
    def cancelled(self) -> bool:
        return False

    def progress(self, fraction: float) -> None:
        pass


def test_a_language_models_mood_is_read_into_name_description_palette_keywords() -> None:
    details = {
        "description": "Neon Tide: electric blues over wet asphalt at night.",
        "styling": "Glossy cyberpunk, palette #0FF0FC #1a1a2e, #16213e and #e94560 #0f3460",
        "animation": "electric, nocturnal, glossy, fast",
    }
    mood = moods.mood_from_text(details, "seed")
    assert mood["name"] == "Neon Tide"
    assert mood["description"] == "electric blues over wet asphalt at night."
    assert mood["color_palette"] == ["#0ff0fc", "#1a1a2e", "#16213e", "#e94560", "#0f3460"]
    assert mood["mood_keywords"] == ["electric", "nocturnal", "glossy", "fast"]
    assert "#" not in mood["visual_style"] and mood["visual_style"].startswith("Glossy cyberpunk")
    Mood.model_validate({"id": "m1", **mood})  # what a mood board writes is a valid Mood


@pytest.mark.parametrize("details", [{}, {"description": "just some prose without a name or colours"}])
def test_whatever_a_model_writes_becomes_a_valid_mood(details: dict[str, str]) -> None:
    mood = moods.mood_from_text(details, "seed")
    assert mood["name"] and len(mood["color_palette"]) == moods.PALETTE_SIZE
    assert mood == moods.mood_from_text(details, "seed")  # deterministic
    Mood.model_validate({"id": "m1", **mood})


def test_the_offline_provider_writes_distinct_moods_through_the_same_interface() -> None:
    brief = {"brand_name": "Fizz", "product_description": "sparkling water"}
    written = [LocalProvider().generate(moods.mood_prompt("p", f"job-{i}", i, 3, brief), Control()) for i in range(3)]
    parsed = [moods.mood_from_text(json.loads(asset.data), "Fizz") for asset in written]
    assert len({m["name"] + m["color_palette"][0] for m in parsed}) == 3
    assert all(len(m["color_palette"]) == 5 and m["mood_keywords"] for m in parsed)


def test_the_seeds_mood_object_is_kept_as_given_and_bad_ones_refused() -> None:
    seed_mood = {"id": "mood-7f3a", "name": "Golden Hour", "description": "Warm light", "visual_style": "film",
                 "color_palette": ["#FFB347", "#ff6961"], "mood_keywords": ["warm"],
                 "images": [{"id": "img-1", "url": "https://example.com/a.png"}]}  # fmt: skip
    board = Storyboard.model_validate({"id": "sb-1", "title": "t", "selected_mood": seed_mood})
    assert board.model_dump()["selected_mood"] == seed_mood and board.model_dump()["id"] == "sb-1"
    assert "id" not in Storyboard.model_validate({}).model_dump()
    assert Storyboard.model_validate({"selected_mood": "mood-1"}).model_dump()["selected_mood"] == "mood-1"
    for image in ("https://example.com/a.png", {"url": "https://example.com/a.png", "id": "i1"}):
        given = {"id": "m", "name": "n", "image": image}
        assert Storyboard.model_validate({"selected_mood": given}).model_dump()["selected_mood"] == given
    for bad in [
        {**seed_mood, "color_palette": ["red"]},
        {**seed_mood, "id": "a/b"},
        {**seed_mood, "extra": 1},
        {"name": "no id"},
        {**seed_mood, "image_path": "../escape.png"},
    ]:
        with pytest.raises(ValueError, match="selected_mood"):
            Storyboard.model_validate({"selected_mood": bad})
