"""Mood boards through the provider: its composition model writes each mood (name,
description, palette, keywords) and its image model draws it.

Both go through the providers' one interface (`generate`): the mood is asked for as a
composition (`purpose="mood"`) whose text is parsed here, so Replicate's language model and
the offline provider are read the same way, and whatever a model writes becomes a valid mood.
"""

from __future__ import annotations

import re
from typing import Any

from mediajobs import cloud
from mediajobs.scenes.providers.base import Control, ScenePrompt
from mediajobs.scenes.providers.local import seed_of

PALETTE_SIZE = 5
_HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")
_DOC_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
INSTRUCTIONS = (
    "Invent one distinct visual mood for this video ad. Put a short mood name (two or three words), a colon and "
    "one sentence about the look in description; the visual style and a palette of five hex colours like #1a2b3c "
    "in styling; four comma-separated mood keywords in animation."
)


def mood_prompt(project_id: str, mood_id: str, index: int, count: int, brief: dict[str, Any]) -> ScenePrompt:
    return ScenePrompt(
        project_id=project_id, scene_id=mood_id, kind="composition", title=f"Mood {index + 1} of {count}",
        description=INSTRUCTIONS, duration_seconds=5, brief=brief, mood=None, purpose="mood",
    )  # fmt: skip


def image_prompt(project_id: str, mood_id: str, mood: dict[str, Any], brief: dict[str, Any]) -> ScenePrompt:
    return ScenePrompt(
        project_id=project_id, scene_id=mood_id, kind="image", title=mood["name"], description=mood["description"],
        duration_seconds=5, brief=brief, mood=mood, purpose="mood",
    )  # fmt: skip


def mood_from_text(details: dict[str, Any], seed_text: str) -> dict[str, Any]:
    """A mood from a composition's {description, styling, animation}, whatever the model wrote:
    missing parts are filled deterministically from `seed_text`."""
    description = " ".join(str(details.get("description") or "").split())
    styling = " ".join(str(details.get("styling") or "").split())
    keywords_text = str(details.get("animation") or "")
    name, _, rest = description.partition(":")
    if not rest or len(name) > 60:
        name, rest = " ".join(description.split()[:3]), description
    name = name.strip(" \"'*#.-") or "Untitled mood"
    palette = list(dict.fromkeys(c.lower() for c in _HEX.findall(f"{styling} {description}")))[:PALETTE_SIZE]
    seed = seed_of(f"{seed_text}#{name}")
    for index in range(PALETTE_SIZE - len(palette)):
        palette.append(f"#{seed[3 * index]:02x}{seed[3 * index + 1]:02x}{seed[3 * index + 2]:02x}")
    visual_style = _HEX.sub("", styling).replace("palette", "").strip(" ;,.:") or "cinematic"
    keywords = [k.strip(" .\"'") for k in keywords_text.split(",") if k.strip(" .\"'")][:8]
    return {
        "name": name[:200],
        "description": rest.strip()[:2000] or description[:2000],
        "visual_style": visual_style[:500],
        "color_palette": palette,
        "mood_keywords": [k[:100] for k in keywords] or [w.lower() for w in name.split()][:4],
    }


class PartOf:
    """Reports a step's progress as a slice [start, end) of the item's."""

    def __init__(self, control: Control, start: float, end: float) -> None:
        self._control, self._start, self._end = control, start, end
        self.checkpoint = getattr(control, "checkpoint", None)  # where the provider keeps its prediction

    def cancelled(self) -> bool:
        return self._control.cancelled()

    def progress(self, fraction: float) -> None:
        self._control.progress(self._start + (self._end - self._start) * max(0.0, min(1.0, fraction)))


def selected_mood_of(project_id: str, storyboard: dict[str, Any]) -> dict[str, Any] | None:
    """The storyboard's mood: the embedded Mood object as given, or the mood document it names."""
    selected = storyboard.get("selected_mood")
    if isinstance(selected, dict):
        return selected
    if not isinstance(selected, str) or not _DOC_ID.match(selected):
        return None
    snapshot = cloud.db().collection("projects").document(project_id).collection("moods").document(selected).get()
    return snapshot.to_dict() if snapshot.exists else None
