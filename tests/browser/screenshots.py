"""Copies the browser tests' page screenshots (test-artifacts/browser/screens/, written by tour.mjs)
into docs/screenshots/ for the README, as 256-colour PNGs (a fifth of the size, still sharp).

    ./dev exec -- python -m pytest tests/browser   # takes them
    functions/venv/bin/python -m tests.browser.screenshots
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "test-artifacts" / "browser" / "screens"
TARGET = ROOT / "docs" / "screenshots"


def main() -> int:
    shots = sorted(SOURCE.glob("*.png"))
    if not shots:
        print(f"no screenshots in {SOURCE}: run the browser tests first", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        with Image.open(shot) as image:
            small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            small.save(TARGET / shot.name, optimize=True)
    print(f"{len(shots)} screenshots -> {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
