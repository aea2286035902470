"""The param values firebase-tools gives a project, read from functions/.env* the way it does.

firebase-tools loads `.env`, then `.env.<project_id>`, then (emulators only) `.env.local`, each
overriding the one before (firebase-tools lib/functions/env.js, `findEnvfiles`), and hands the
result to the functions both at discovery (the deploy manifest) and at run time.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


def env_files(project: str, *, emulator: bool, config_dir: Path = FUNCTIONS) -> list[Path]:
    """The dotenv files that apply to `project`, in the order they are applied (existing ones only)."""
    names = [".env", f".env.{project}"] + ([".env.local"] if emulator else [])
    return [config_dir / name for name in names if (config_dir / name).is_file()]


def parse(text: str) -> dict[str, str]:
    """KEY=VALUE lines; '#' comments, blank lines, single or double quotes around a value."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise ValueError(f"not a KEY=VALUE line: {line!r}")
        key, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def project_params(project: str, *, emulator: bool, config_dir: Path = FUNCTIONS) -> dict[str, str]:
    """Every value set for `project` (later files win)."""
    values: dict[str, str] = {}
    for path in env_files(project, emulator=emulator, config_dir=config_dir):
        values.update(parse(path.read_text()))
    return values


def region(project: str, *, emulator: bool, config_dir: Path = FUNCTIONS) -> str:
    """The project's REGION param (its default, us-central1, when no file sets it)."""
    return project_params(project, emulator=emulator, config_dir=config_dir).get("REGION") or "us-central1"
