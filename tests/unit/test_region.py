"""One REGION param places every function, the task queues, the webhook URL and the dev stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mediajobs import config, platform
from tools import devstack, envfiles

ROOT = Path(__file__).resolve().parents[2]


def test_env_files_apply_in_firebase_tools_order(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# comment\nREGION=us-central1\nA='quoted # not a comment'\nB=1 # a comment\n")
    (tmp_path / ".env.proj").write_text('REGION="europe-west1"\n')
    (tmp_path / ".env.local").write_text("REGION=asia-east1\n")

    assert envfiles.region("proj", emulator=False, config_dir=tmp_path) == "europe-west1"
    assert envfiles.region("proj", emulator=True, config_dir=tmp_path) == "asia-east1"
    assert envfiles.region("other", emulator=False, config_dir=tmp_path) == "us-central1"
    values = envfiles.project_params("proj", emulator=False, config_dir=tmp_path)
    assert values["A"] == "quoted # not a comment" and values["B"] == "1"
    with pytest.raises(ValueError, match="not a KEY=VALUE"):
        envfiles.parse("just words\n")


def test_every_function_is_declared_in_the_region_param() -> None:
    code = (
        "import json, main\n"
        "from firebase_functions.private import serving\n"
        "print(json.dumps({n: f.__firebase_endpoint__.region for n, f in serving.get_functions().items()}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "functions", capture_output=True, text=True, check=True
    )
    regions = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(regions) > 10
    assert {name: r for name, r in regions.items() if r != ["{{ params.REGION }}"]} == {}


def test_tasks_are_enqueued_to_the_queue_in_the_region() -> None:
    assert platform.task_queue_path("jobitems", "europe-west1") == "locations/europe-west1/functions/jobitems"


def test_the_webhook_url_is_derived_from_project_and_region(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FUNCTIONS_EMULATOR", "FIRESTORE_EMULATOR_HOST", "REPLICATE_WEBHOOK_URL", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", "acme-prod")
    monkeypatch.setenv("REGION", "europe-west1")
    assert config.replicate_webhook_url() == "https://europe-west1-acme-prod.cloudfunctions.net/replicate_webhook"

    monkeypatch.setenv("REPLICATE_WEBHOOK_URL", "https://hooks.example.com/replicate")
    assert config.replicate_webhook_url() == "https://hooks.example.com/replicate"

    monkeypatch.delenv("REPLICATE_WEBHOOK_URL")
    monkeypatch.setenv("FUNCTIONS_EMULATOR", "true")
    assert config.replicate_webhook_url() == ""  # Replicate cannot reach the emulator: polling


def test_the_dev_stack_routes_hosting_rewrites_to_the_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devstack, "REGION", "europe-west1")
    ports = {name: 1 + offset for name, offset in devstack.PORT_OFFSETS.items()}  # a file no run uses
    path = devstack.write_firebase_config(ports)
    try:
        rewrites = json.loads(path.read_text())["hosting"]["rewrites"]
    finally:
        path.unlink()
    assert [r["function"]["region"] for r in rewrites if "function" in r] == ["europe-west1"]
    assert "region" not in json.loads((ROOT / "firebase.json").read_text())["hosting"]["rewrites"][0]["function"]
