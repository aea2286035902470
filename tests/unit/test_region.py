"""One REGION param places every function, the task queues, the webhook URL and the dev stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mediajobs import cloud, config
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
    assert cloud.task_queue_path("jobitems", "europe-west1") == "locations/europe-west1/functions/jobitems"


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


DEPLOYED = ("FUNCTIONS_EMULATOR", "FIRESTORE_EMULATOR_HOST", "FUNCTIONS_ORIGIN", "GOOGLE_CLOUD_PROJECT")


def deployed_in(monkeypatch: pytest.MonkeyPatch, project: str, region: str) -> None:
    """The environment of a deployed function: the project, REGION, no emulator, no URL params."""
    for name in (*DEPLOYED, "REPLICATE_WEBHOOK_URL", "STREAM_BASE_URL", "EVENTS_LOCATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GCLOUD_PROJECT", project)
    monkeypatch.setenv("REGION", region)


def test_stream_urls_are_derived_from_project_and_region(monkeypatch: pytest.MonkeyPatch) -> None:
    from mediajobs.video import stream

    deployed_in(monkeypatch, "acme-prod", "europe-west1")
    assert stream.base_url(None) == "https://europe-west1-acme-prod.cloudfunctions.net/stream"
    assert stream.base_url("https://europe-west1-acme-prod.cloudfunctions.net/download_url") == (
        "https://europe-west1-acme-prod.cloudfunctions.net/stream"
    )

    monkeypatch.setenv("STREAM_BASE_URL", "https://acme.web.app/stream/")
    assert stream.base_url(None) == "https://acme.web.app/stream"


def test_the_events_channel_location_defaults_to_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    deployed_in(monkeypatch, "acme-prod", "europe-west1")
    assert config.events_location() == "europe-west1"

    monkeypatch.setenv("EVENTS_LOCATION", "us-east1")
    assert config.events_location() == "us-east1"

    monkeypatch.delenv("EVENTS_LOCATION")
    monkeypatch.delenv("REGION")
    assert config.events_location() == "us-central1"  # REGION's default


def test_a_provider_configured_by_region_and_project_alone_sends_the_derived_webhook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README, Deploying: the webhook URL needs nothing. The create request must carry it."""
    from mediajobs.scenes.providers.base import ScenePrompt
    from mediajobs.scenes.providers.replicate_provider import ReplicateProvider
    from tests.fake_replicate import FakeReplicate

    fake = FakeReplicate("whsec_" + "A" * 32, {})
    fake.step_seconds = 3600  # the prediction stays "starting": no webhook is posted anywhere
    try:
        deployed_in(monkeypatch, "acme-prod", "europe-west1")
        monkeypatch.setenv("REPLICATE_BASE_URL", fake.url)
        monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_test")

        provider = ReplicateProvider.from_config()
        prediction_id = provider._create(ScenePrompt("p", "s", "image", "t", "d", 4, {}, None))
    finally:
        fake.close()

    prediction = fake.predictions[prediction_id]
    assert prediction.webhook == "https://europe-west1-acme-prod.cloudfunctions.net/replicate_webhook"
    assert prediction.events == ["start", "logs", "completed"]
