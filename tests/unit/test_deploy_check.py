"""`make deploy-check` (tools/deploy_check.py): green for the demo project, red and clear otherwise."""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mediajobs.jobs import queues
from tools import deploy_check, deploy_manifest, envfiles

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
    """setup installs u2netp through scripts/fetch-models, which checks the catalogue's MD5."""
    from mediajobs.photos.models_catalogue import CATALOGUE

    assert {"u2netp.onnx": CATALOGUE["u2netp"].md5} == deploy_check.REQUIRED_MODELS
    assert "scripts/fetch-models" in (ROOT / "scripts" / "setup").read_text() and "u2netp" in CATALOGUE


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


def deploy_check_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "deploy_check.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def config_dir_with(tmp_path: Path, project: str, project_env: str, drop: str | None = None) -> Path:
    """functions/.env as it is (less one param), plus a .env.<project> of our own."""
    lines = (ROOT / "functions" / ".env").read_text().splitlines()
    (tmp_path / ".env").write_text("\n".join(x for x in lines if not (drop and x.startswith(f"{drop}="))) + "\n")
    (tmp_path / f".env.{project}").write_text(project_env)
    return tmp_path


def test_the_demo_project_is_ready_to_deploy() -> None:
    run = deploy_check_run("--project", "demo-mediajobs")

    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("discovery", "params", "region", "resources", "queues", "secrets", "limits", "rules", "dashboard",
                 "models"):  # fmt: skip
        assert f"ok    {name}" in run.stdout
    assert "Only the console" in run.stdout and "roles/cloudtasks.enqueuer" in run.stdout


def test_a_region_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    config = config_dir_with(tmp_path, "acme", "REGION=mars-central1\n")
    run = deploy_check_run("--project", "acme", "--config-dir", str(config), "--skip", "rules,dashboard,models")

    assert run.returncode == 1
    assert "REGION=mars-central1 is not a Cloud Functions region" in run.stdout
    assert "ok    params" in run.stdout  # only what is wrong is reported


def test_a_missing_param_is_named_with_the_files_to_set_it_in(tmp_path: Path) -> None:
    config = config_dir_with(tmp_path, "acme", "REGION=europe-west1\n", drop="UPLOAD_MAX_MB")
    run = deploy_check_run("--project", "acme", "--config-dir", str(config), "--skip", "rules,dashboard,models")

    assert run.returncode == 1
    assert "param UPLOAD_MAX_MB has no value in functions/.env or functions/.env.acme" in run.stdout
    assert "ok    region" in run.stdout  # europe-west1 everywhere


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return deploy_manifest.discover("acme", envfiles.project_params("acme", emulator=False))


def test_functions_outside_the_region_are_named(manifest: dict[str, Any]) -> None:
    params = {"REGION": "europe-west1"}
    assert deploy_manifest.check_regions(manifest, params, "europe-west1") == []
    moved = copy.deepcopy(manifest)
    moved["endpoints"]["upload"]["region"] = ["us-central1"]
    assert deploy_manifest.check_regions(moved, params, "europe-west1") == [
        "upload deploys to ['us-central1'], not to REGION=europe-west1: declare it without a region"
    ]
    rewrite = {"source": "/api/upload", "function": {"functionId": "upload", "region": "us-central1"}}
    rewrites = {"hosting": {"rewrites": [rewrite]}}
    assert "not REGION=europe-west1" in " ".join(deploy_manifest.check_hosting_rewrites(rewrites, "europe-west1"))


def test_a_timeout_above_the_dispatch_deadline_or_the_budget_is_refused(manifest: dict[str, Any]) -> None:
    params = envfiles.project_params("acme", emulator=False)
    assert deploy_manifest.check_resources(manifest, params) == []
    assert deploy_manifest.check_queues(manifest, params, queues.QUEUES) == []

    longer = copy.deepcopy(manifest)
    longer["endpoints"]["jobitems"]["timeoutSeconds"] = 2400
    problems = deploy_manifest.check_resources(longer, params) + deploy_manifest.check_queues(
        longer, params, queues.QUEUES
    )
    assert problems == [
        "jobitems: timeout 2400 s is above the 1800 s a task function may have"
        " (Cloud Tasks' longest dispatch deadline)",
        "jobitems: declared timeout 2400 s, but jobs/queues.py budgets 540 s",
    ]

    table = dict(queues.QUEUES)
    table["jobitems"] = dataclasses.replace(queues.GENERIC_ITEMS, timeout_s=300)  # below its 540 s deadline
    deadline = queues.SELFTEST_ITEMS.dispatch_deadline_s  # a lease renewed only as the deadline passes:
    table["selftestitems"] = dataclasses.replace(queues.SELFTEST_ITEMS, lease_s=3 * deadline)
    problems = deploy_manifest.check_queues(manifest, params, table)
    assert "jobitems: dispatch deadline 540 s is above the function timeout 300 s" in " ".join(problems)
    assert (
        f"selftestitems: the lease ({3 * deadline} s) is renewed every {deadline} s, "
        f"not inside the {deadline} s dispatch deadline"
    ) in problems


def test_concurrency_needs_a_whole_cpu(manifest: dict[str, Any]) -> None:
    starved = copy.deepcopy(manifest)
    starved["endpoints"]["exportitems"].update({"cpu": "gcf_gen1", "availableMemoryMb": 512})
    assert deploy_manifest.check_resources(starved, {}) == [
        "exportitems: concurrency 8 needs at least 1 CPU (has 0.3333)"
    ]


@pytest.mark.parametrize("provider", ["local", "replicate"])
def test_replicate_secrets_are_declared_and_bound_only_for_replicate(tmp_path: Path, provider: str) -> None:
    target = deploy_check.Target("acme", config_dir_with(tmp_path, "acme", f"GENERATION_PROVIDER={provider}\n"))

    bound = deploy_manifest.secrets_of(target.manifest)
    if provider == "local":  # firebase deploy neither asks for nor binds any secret
        assert bound == {}
    else:
        assert bound == {"REPLICATE_API_TOKEN": ["sceneitems"], "REPLICATE_WEBHOOK_SECRET": ["replicate_webhook"]}
    assert deploy_check.check_secrets(target) == []


def test_an_upload_limit_above_what_cloud_run_accepts_is_refused(tmp_path: Path) -> None:
    config = config_dir_with(tmp_path, "acme", "UPLOAD_MAX_MB=100\n")
    problems = deploy_check.check_limits(deploy_check.Target("acme", config))
    assert problems and "UPLOAD_MAX_MB=100 is above the 32 MiB" in problems[0]
    assert deploy_check.check_limits(deploy_check.Target("acme", ROOT / "functions")) == []


def test_a_replicate_provider_without_its_secrets_bound_is_refused(tmp_path: Path) -> None:
    config = config_dir_with(tmp_path, "acme", "GENERATION_PROVIDER=replicate\n")
    target = deploy_check.Target("acme", config, {"endpoints": {"sceneitems": {}}, "params": []})
    assert deploy_check.check_secrets(target) == [
        "GENERATION_PROVIDER='replicate', but the secret REPLICATE_API_TOKEN is not bound to sceneitems",
        "GENERATION_PROVIDER='replicate', but the secret REPLICATE_WEBHOOK_SECRET is not bound to replicate_webhook",
    ]


def test_the_urls_and_the_events_channel_of_the_region_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_dir_with(tmp_path, "acme", "REGION=europe-west1\nGENERATION_PROVIDER=replicate\n")
    deploy_check.main(["--project", "acme", "--config-dir", str(config), "--skip", ",".join(deploy_check.CHECKS)])
    out = capsys.readouterr().out

    assert "stream URL      https://europe-west1-acme.cloudfunctions.net/stream " in out
    assert "events channel  projects/acme/locations/europe-west1/channels/firebase " in out
    assert "webhook URL     https://europe-west1-acme.cloudfunctions.net/replicate_webhook " in out
    assert "us-central1" not in out.replace("nam5 for us-central1", "")


def test_params_that_move_the_urls_and_the_channel_are_followed(tmp_path: Path) -> None:
    settings = (
        "REGION=europe-west1\nGENERATION_PROVIDER=replicate\nEVENTS_LOCATION=europe-west4\n"
        "STREAM_BASE_URL=https://acme.web.app/stream\nREPLICATE_WEBHOOK_URL=https://hooks.example.com/r\n"
    )
    target = deploy_check.Target("acme", config_dir_with(tmp_path, "acme", settings))
    lines = "\n".join(target.endpoints())

    assert "stream URL      https://acme.web.app/stream (STREAM_BASE_URL)" in lines
    assert "events channel  projects/acme/locations/europe-west4/channels/firebase (EVENTS_LOCATION)" in lines
    assert "webhook URL     https://hooks.example.com/r (REPLICATE_WEBHOOK_URL)" in lines

    local = deploy_check.Target("acme", config_dir_with(tmp_path, "acme", "GENERATION_PROVIDER=local\n"))
    assert "webhook URL     none" in "\n".join(local.endpoints())


def test_a_deploy_has_no_event_probes_and_the_local_test_project_has_them(manifest: dict[str, Any]) -> None:
    """The tests' lifecycle-event probes would cost a deployed project two invocations per job."""
    probes = {"on_job_started_event", "on_job_completed_event", "on_job_failed_event", "on_job_cancelled_event"}
    assert probes.isdisjoint(manifest["endpoints"])
    local = deploy_manifest.discover("demo-mediajobs", envfiles.project_params("demo-mediajobs", emulator=True))
    assert probes <= set(local["endpoints"])
    bench = deploy_manifest.discover(
        "demo-mediajobs-bench", envfiles.project_params("demo-mediajobs-bench", emulator=True)
    )
    assert probes.isdisjoint(bench["endpoints"])  # the benchmarks run what a deploy runs
