"""`make deploy-check` (tools/deploy_check.py): green for the demo project, red and clear otherwise."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tools import deploy_check

ROOT = Path(__file__).resolve().parents[2]


def test_the_predeploy_hooks_build_verify_and_lint() -> None:
    config = json.loads((ROOT / "firebase.json").read_text())
    functions_hooks = " ; ".join(config["functions"][0]["predeploy"])
    hosting_hooks = " ; ".join(config["hosting"]["predeploy"])
    assert "make -s lint" in functions_hooks and "--predeploy functions" in functions_hooks
    assert "scripts/setup" in hosting_hooks and "--predeploy hosting" in hosting_hooks
    # firebase-tools warns that a hook containing "=" may not run.
    assert "=" not in functions_hooks + hosting_hooks


def test_the_model_checksum_is_the_one_setup_verifies() -> None:
    scripts = " ".join(p.read_text(errors="replace") for p in (ROOT / "scripts").iterdir() if p.is_file())
    assert all(md5 in scripts for md5 in deploy_check.REQUIRED_MODELS.values())


def test_a_missing_or_altered_model_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy_check, "MODELS", tmp_path)
    monkeypatch.setattr(deploy_check, "ROOT", tmp_path.parent)
    assert "u2netp.onnx is missing" in " ".join(deploy_check.check_models())
    (tmp_path / "u2netp.onnx").write_bytes(b"not a model")
    assert "wrong checksum" in " ".join(deploy_check.check_models())
    shutil.copy(ROOT / "functions" / "models" / "u2netp.onnx", tmp_path / "u2netp.onnx")
    assert deploy_check.check_models() == []


def test_a_stale_or_missing_dashboard_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy_check, "WEB", tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.js").write_text("1")
    assert "missing" in " ".join(deploy_check.check_dashboard())
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<html>")
    assert deploy_check.check_dashboard() == []
    (tmp_path / "src" / "main.js").write_text("2")
    later = (tmp_path / "dist" / "index.html").stat().st_mtime + 10
    os.utime(tmp_path / "src" / "main.js", (later, later))
    assert "older than web/" in " ".join(deploy_check.check_dashboard())


def test_the_hosting_predeploy_writes_the_region_for_the_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy_check, "WEB", tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / ".env").write_text("REGION=us-central1\n")
    (tmp_path / ".env.acme").write_text("REGION=europe-west1\n")
    path = deploy_check.write_deploy_info(deploy_check.Target("acme", tmp_path))
    assert json.loads(path.read_text()) == {"projectId": "acme", "region": "europe-west1"}
