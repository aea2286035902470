"""The presets of processing on upload: a folder name under users/{uid}/auto/ -> the options
of the photo_batch job each image dropped there starts.

Declared here, in code, as the storage-resize-images extension declares its sizes as
parameters: a preset changes with a deploy, and every preset is a checked `PhotoOptions` (the
unit tests validate the table), so a bad preset cannot reach a user's upload.
"""

from __future__ import annotations

import dataclasses
from typing import Any

WATCHED = "auto"  # users/{uid}/auto/{preset}/...: what the trigger processes
OUTPUTS = "auto-out"  # users/{uid}/auto-out/{preset}/...: where the outputs go (never watched)


@dataclasses.dataclass(frozen=True)
class AutoPreset:
    name: str
    description: str
    options: dict[str, Any]


PRESETS: dict[str, AutoPreset] = {
    preset.name: preset
    for preset in (
        AutoPreset("white-jpg", "Background removed, on white, as JPEG (product shots).",
                   {"remove_bg": True, "bg": "#ffffff", "output_format": "jpg"}),
        AutoPreset("cutout", "Background removed, transparent PNG.", {"remove_bg": True}),
        AutoPreset("web-512", "Long edge at most 512 px, JPEG (transparency flattened on white).",
                   {"remove_bg": False, "size": 512, "output_format": "jpg"}),
    )
}  # fmt: skip


def preset(name: str) -> AutoPreset | None:
    return PRESETS.get(name)
