"""Mood boards under Replicate (the fake on a local port): the language model writes the mood,
the image model draws it, and what it wrote becomes a valid mood."""

from __future__ import annotations

import io

from PIL import Image

from mediajobs.scenes import moods
from mediajobs.scenes.models import Mood
from tests.fake_replicate import FakeReplicate
from tests.integration.test_replicate_provider import Control, fake, provider  # noqa: F401 - the fixture


def test_a_mood_is_written_by_the_language_model_and_drawn_by_the_image_model(fake: FakeReplicate) -> None:  # noqa: F811
    replicate = provider(fake, webhooks=False, poll=0.3)
    brief = {"brand_name": "Fizz", "tone": "playful"}

    written = replicate.generate(moods.mood_prompt("p1", "job-0", 0, 4, brief), Control())
    mood = moods.mood_from_text(written.details, "Fizz")
    drawn = replicate.generate(moods.image_prompt("p1", "job-0", mood, brief), Control())

    assert mood["name"] == "Neon Tide" and mood["description"] == "electric blues over wet asphalt."
    assert mood["color_palette"][:3] == ["#0ff0fc", "#1a1a2e", "#e94560"] and len(mood["color_palette"]) == 5
    assert mood["mood_keywords"] == ["electric", "nocturnal", "glossy"]
    Mood.model_validate({"id": "job-0", **mood})
    assert Image.open(io.BytesIO(drawn.data)).format == "PNG"
    prompts = [p.input.get("prompt", "") for p in fake.predictions.values()]
    assert any("visual mood" in p and "Fizz" in p for p in prompts)  # the brief reached the language model
    assert any(p.startswith("Neon Tide") for p in prompts)  # the image model was asked for the written mood
