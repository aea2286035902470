"""The offline provider: real media, made deterministically from the scene's text.

composition  JSON {description, styling, animation}
image        PNG 1024x576 (or the `aspect_ratio` asked for, long edge 1024): the palette as
             bands, the title written on it
video        MP4 (H.264, a few seconds) of that image slowly fading in, by the bundled ffmpeg
audio        WAV: a short motif whose notes come from the text

A `seed` is mixed into everything drawn from the text (and an image gets seed-placed marks, so
a mood's fixed palette cannot hide it): the same seed gives the same bytes, another seed others.
`negative_prompt` and `version` are recorded with the take but change nothing here.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import struct
import subprocess
import tempfile
import time
import wave
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mediajobs.scenes.providers.base import Control, GeneratedAsset, ProviderCancelled, ProviderError, ScenePrompt

STYLES = ("cinematic, soft light", "bold flat colours", "warm film grain", "high-contrast noir", "pastel minimal")
MOVES = ("slow push-in", "gentle pan left", "static, then cut", "orbit around the product", "pull back to reveal")


def seed_of(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def seeded_text(prompt: ScenePrompt) -> str:
    """The prompt's text, with the caller's seed when there is one."""
    seed = prompt.params.seed
    return prompt.text() if seed is None else f"{prompt.text()}#seed={seed}"


def frame_size(prompt: ScenePrompt, default: tuple[int, int]) -> tuple[int, int]:
    """`default`, or the prompt's aspect ratio with the same long edge (even sides, for H.264)."""
    ratio = prompt.params.aspect_ratio
    if ratio is None:
        return default
    width, height = (int(part) for part in ratio.split(":"))
    long_edge = max(default)
    short = max(2, round(long_edge * min(width, height) / max(width, height) / 2) * 2)
    return (long_edge, short) if width >= height else (short, long_edge)


def palette_of(prompt: ScenePrompt) -> list[tuple[int, int, int]]:
    colours = [c for c in (prompt.mood or {}).get("color_palette", []) if isinstance(c, str)]
    parsed = []
    for colour in colours[:5]:
        value = colour.lstrip("#")
        if len(value) == 6:
            try:
                parsed.append((int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)))
            except ValueError:
                continue
    if parsed:
        return parsed
    seed = seed_of(seeded_text(prompt))
    return [(seed[i], seed[i + 1], seed[i + 2]) for i in range(0, 15, 3)]


class LocalProvider:
    name = "local"

    def __init__(self, latency_ms: int = 0) -> None:
        self.latency_ms = latency_ms

    def generate(self, prompt: ScenePrompt, control: Control) -> GeneratedAsset:
        self._wait(control)
        if prompt.kind == "composition":
            return composition(prompt)
        if prompt.kind == "image":
            return GeneratedAsset(image_png(prompt), "image/png", "png")
        if prompt.kind == "video":
            return GeneratedAsset(video_mp4(prompt), "video/mp4", "mp4")
        if prompt.kind == "audio":
            return GeneratedAsset(audio_wav(prompt), "audio/wav", "wav")
        raise ProviderError("invalid-argument", f"Unknown asset kind {prompt.kind!r}.")

    def _wait(self, control: Control) -> None:
        """Stands in for a remote model's latency (benchmarks inject it), cancellable."""
        deadline = time.monotonic() + self.latency_ms / 1000
        while (left := deadline - time.monotonic()) > 0:
            if control.cancelled():
                raise ProviderCancelled()
            control.progress(1 - left / (self.latency_ms / 1000))
            time.sleep(min(0.1, left))


def composition(prompt: ScenePrompt) -> GeneratedAsset:
    if prompt.purpose == "mood":
        return mood_composition(prompt)
    seed = seed_of(seeded_text(prompt))
    tone = (prompt.brief or {}).get("tone") or "confident"
    details = {
        "description": f"{prompt.title}: {prompt.description}".strip(": "),
        "styling": f"{STYLES[seed[0] % len(STYLES)]}; tone {tone}",
        "animation": f"{MOVES[seed[1] % len(MOVES)]} over {prompt.duration_seconds:g} s",
    }
    return GeneratedAsset(json.dumps(details, indent=2).encode(), "application/json", "json", details)


def image_png(prompt: ScenePrompt, default_size: tuple[int, int] = (1024, 576)) -> bytes:
    from PIL import Image, ImageDraw

    size = frame_size(prompt, default_size)
    colours = palette_of(prompt)
    image = Image.new("RGB", size, colours[0])
    draw = ImageDraw.Draw(image)
    band = size[0] // len(colours)
    for index, colour in enumerate(colours):
        draw.rectangle((index * band, int(size[1] * 0.7), (index + 1) * band, size[1]), fill=colour)
    draw.rectangle((40, 40, size[0] - 40, 160), fill=(255, 255, 255))
    draw.text((60, 70), prompt.title[:60], fill=(20, 20, 20), font_size=40)
    draw.text((60, 125), prompt.description[:100], fill=(70, 70, 70), font_size=20)
    if prompt.params.seed is not None:
        marks = seed_of(seeded_text(prompt)) + seed_of(f"{seeded_text(prompt)}#marks")
        room = max(1, int(size[1] * 0.7) - 200)
        for i in range(0, 60, 5):
            x, y = marks[i] * (size[0] - 30) // 256, 170 + marks[i + 1] * room // 256
            draw.ellipse((x, y, x + 24, y + 24), fill=(marks[i + 2], marks[i + 3], marks[i + 4]))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def video_mp4(prompt: ScenePrompt) -> bytes:
    import imageio_ffmpeg

    seconds = max(1.0, min(prompt.duration_seconds, 4.0))
    with tempfile.TemporaryDirectory(prefix="scene-video-") as folder:
        still = Path(folder) / "still.png"
        still.write_bytes(image_png(prompt, (640, 360)))
        out = Path(folder) / "clip.mp4"
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-loop", "1", "-i", str(still), "-t", f"{seconds:.2f}", "-r", "24",
            "-vf", "fade=in:0:24,format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
            "-movflags", "+faststart", str(out),
        ]  # fmt: skip
        run = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if run.returncode != 0:
            raise ProviderError("provider-failed", f"ffmpeg failed: {run.stderr.decode(errors='replace')[-300:]}")
        return out.read_bytes()


def mono_wav(samples: Iterable[float], rate: int) -> bytes:
    """A mono 16-bit PCM WAV of samples in -1..1."""
    frames = bytearray()
    for value in samples:
        frames += struct.pack("<h", int(value * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def audio_wav(prompt: ScenePrompt, rate: int = 22_050) -> bytes:
    seed = seed_of(seeded_text(prompt))
    seconds = max(1.0, min(prompt.duration_seconds, 8.0))
    notes = [220 * 2 ** ((seed[i] % 12) / 12) for i in range(8)]
    total = int(seconds * rate)

    def sample(n: int) -> float:
        note = notes[(n * len(notes)) // total]
        envelope = min(1.0, n / 500, (total - n) / 500)
        return 0.3 * envelope * math.sin(2 * math.pi * note * n / rate)

    return mono_wav(map(sample, range(total)), rate)


def mood_names(seed_text: str, count: int) -> list[dict[str, Any]]:
    """Deterministic moods for a mood board: names, palettes and keywords."""
    words = ("Golden", "Midnight", "Electric", "Velvet", "Coastal", "Urban", "Forest", "Neon", "Dusty", "Arctic")
    themes = ("Hour", "Drive", "Bloom", "Pulse", "Calm", "Rush", "Glow", "Drift")
    moods = []
    for index in range(count):
        seed = seed_of(f"{seed_text}#{index}")
        palette = [f"#{seed[i]:02x}{seed[i + 1]:02x}{seed[i + 2]:02x}" for i in range(0, 15, 3)]
        name = f"{words[seed[15] % len(words)]} {themes[seed[16] % len(themes)]}"
        moods.append(
            {
                "name": name,
                "description": f"A {STYLES[seed[17] % len(STYLES)]} look for {seed_text[:60]}",
                "visual_style": STYLES[seed[17] % len(STYLES)],
                "color_palette": palette,
                "mood_keywords": [
                    name.split(maxsplit=1)[0].lower(),
                    name.split()[1].lower(),
                    MOVES[seed[18] % len(MOVES)],
                ],
            }
        )
    return moods


def mood_composition(prompt: ScenePrompt) -> GeneratedAsset:
    """A mood written the way a language model is asked to write one (see scenes/moods.py):
    "Name: description" in description, the palette's hex colours in styling, keywords in
    animation; offline and deterministic from the brief and the mood's number."""
    brief = prompt.brief or {}
    seed_text = f"{brief.get('brand_name', '')} {brief.get('product_description', '')}".strip() or prompt.title
    index = int(prompt.scene_id.rsplit("-", 1)[-1]) if prompt.scene_id.rsplit("-", 1)[-1].isdigit() else 0
    mood = mood_names(seed_text, index + 1)[index]
    details = {
        "description": f"{mood['name']}: {mood['description']}",
        "styling": f"{mood['visual_style']}; palette {' '.join(mood['color_palette'])}",
        "animation": ", ".join(mood["mood_keywords"]),
    }
    return GeneratedAsset(json.dumps(details, indent=2).encode(), "application/json", "json", details)
