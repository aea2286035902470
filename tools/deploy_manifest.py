"""The functions' deploy manifest, discovered the way firebase-tools discovers it, and its checks.

firebase-tools starts `firebase_functions/private/serving.py` in functions/ with the project's
params (functions/.env, .env.<project>) and FIREBASE_CONFIG/GCLOUD_PROJECT in the environment
and reads `GET /__/functions.yaml` (lib/deploy/functions/runtimes/python). `discover` asks the
same Flask admin app for the same route, in a subprocess with the same environment. The checks
then mirror what `firebase deploy` validates (lib/deploy/functions/validate.js) and add the
code's own budgets from jobs/queues.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from firebase_functions import options

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
PYTHON = FUNCTIONS / "venv" / "bin" / "python"
# Cloud Functions (2nd gen) regions the SDK knows.
SUPPORTED_REGIONS = frozenset(region.value for region in options.SupportedRegion)
MAX_TASK_SECONDS = 1800  # Cloud Tasks' longest dispatch deadline (HTTP targets)
MIN_DISPATCH_DEADLINE_SECONDS = 15
TIMEOUT_LIMITS = {"event": 540, "task": MAX_TASK_SECONDS, "schedule": 1800, "https": 3600}
DEFAULT_MEMORY_MB = 256
GEN1_CPU = {128: 0.0833, 256: 0.1666, 512: 0.3333, 1024: 0.5833, 2048: 1, 4096: 2, 8192: 2, 16384: 4, 32768: 8}
GEN2_CPU = {128: 1, 256: 1, 512: 1, 1024: 1, 2048: 1, 4096: 2, 8192: 2, 16384: 4, 32768: 8}
_PARAM = re.compile(r"^\{\{ params\.([A-Z0-9_]+) \}\}$")
# Variables of a ./dev exec run that must not leak into a discovery meant to look like a deploy.
_EMULATOR_VARS = re.compile(
    r"^(FIRESTORE_EMULATOR_HOST|FIREBASE_.*|FUNCTIONS_EMULATOR|CLOUD_TASKS_EMULATOR_HOST|STORAGE_EMULATOR_HOST|"
    r"STORAGE_BUCKET|GCLOUD_PROJECT|GOOGLE_CLOUD_PROJECT|MEDIAJOBS_.*)$"
)

# The admin app's route that firebase-tools reads; its YAML handed back as JSON.
_DISCOVER = (
    "import json, sys, yaml\n"
    "from firebase_functions.private import serving\n"
    "reply = serving.serve_admin().test_client().get('/__/functions.yaml')\n"
    "reply.status_code == 200 or sys.exit(f'/__/functions.yaml answered {reply.status_code}')\n"
    "print(json.dumps(yaml.safe_load(reply.get_data(as_text=True))))\n"
)


class DiscoveryError(Exception):
    pass


def discover(project: str, params: Mapping[str, str], source: Path = FUNCTIONS) -> dict[str, Any]:
    """The manifest firebase-tools would read for `project` with these param values."""
    env = {k: v for k, v in os.environ.items() if not _EMULATOR_VARS.match(k) and k not in params}
    env.update(params)
    env.update(
        {
            "FIREBASE_CONFIG": json.dumps({"projectId": project, "storageBucket": f"{project}.appspot.com"}),
            "GCLOUD_PROJECT": project,
            "GOOGLE_CLOUD_QUOTA_PROJECT": project,
        }
    )
    run = subprocess.run(
        [str(PYTHON), "-c", _DISCOVER], cwd=source, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if run.returncode != 0:
        raise DiscoveryError(f"main.py failed to load for discovery:\n{run.stderr[-3000:]}")
    manifest: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return manifest


def resolve(value: Any, params: Mapping[str, str], defaults: Mapping[str, Any]) -> Any:
    """A manifest value with "{{ params.X }}" replaced by X's value (as firebase-tools resolves it)."""
    if isinstance(value, str) and (match := _PARAM.match(value)):
        name = match.group(1)
        raw = params.get(name, defaults.get(name))
        return int(raw) if isinstance(raw, str) and raw.lstrip("-").isdigit() else raw
    return value


def param_defaults(manifest: Mapping[str, Any]) -> dict[str, Any]:
    return {p["name"]: p.get("default") for p in manifest.get("params") or []}


def check_params(manifest: Mapping[str, Any], params: Mapping[str, str], env_names: str) -> list[str]:
    """Every non-secret param has a value in the project's .env files, of its type.

    firebase deploy prompts for any param missing there (default or not) and, non-interactive
    (CI), fails; the value it prompted for is then written into .env.<project>."""
    problems = []
    for param in manifest.get("params") or []:
        name, kind = param["name"], param.get("type")
        if kind == "secret":
            continue
        if name not in params:
            problems.append(
                f"param {name} has no value in {env_names}: firebase deploy would prompt for it "
                f"(and fail with --non-interactive); add {name}={param.get('default', '')}"
            )
        elif kind == "int" and not params[name].strip().lstrip("-").isdigit():
            problems.append(f"param {name}={params[name]!r} is not an integer")
        elif kind == "boolean" and params[name].strip().lower() not in ("true", "false"):
            problems.append(f"param {name}={params[name]!r} is not true or false")
    return problems


def secrets_of(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """Secret name -> the functions it is bound to."""
    bound: dict[str, list[str]] = {p["name"]: [] for p in manifest.get("params") or [] if p.get("type") == "secret"}
    for name, endpoint in sorted(manifest["endpoints"].items()):
        for secret in endpoint.get("secretEnvironmentVariables") or []:
            bound.setdefault(secret["key"], []).append(name)
    return bound


def check_regions(manifest: Mapping[str, Any], params: Mapping[str, str], region: str) -> list[str]:
    problems = []
    if region not in SUPPORTED_REGIONS:
        problems.append(f"REGION={region} is not a Cloud Functions region (e.g. us-central1, europe-west1)")
    defaults = param_defaults(manifest)
    for name, endpoint in sorted(manifest["endpoints"].items()):
        regions = [resolve(r, params, defaults) for r in endpoint.get("region") or ["us-central1"]]
        if regions != [region]:
            problems.append(f"{name} deploys to {regions}, not to REGION={region}: declare it without a region")
    return problems


def check_hosting_rewrites(firebase_json: Mapping[str, Any], region: str) -> list[str]:
    problems = []
    for rewrite in firebase_json.get("hosting", {}).get("rewrites", []):
        function = rewrite.get("function")
        if isinstance(function, dict) and function.get("region", region) != region:
            problems.append(
                f"firebase.json rewrites {rewrite.get('source')} to {function.get('functionId')} in "
                f"{function['region']}, not REGION={region}: leave the region out (deploy finds the function's)"
            )
    return problems


def trigger_kind(endpoint: Mapping[str, Any]) -> str:
    if "eventTrigger" in endpoint:
        return "event"
    if "taskQueueTrigger" in endpoint:
        return "task"
    if "scheduleTrigger" in endpoint:
        return "schedule"
    return "https"


def resources(endpoint: Mapping[str, Any], params: Mapping[str, str], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Memory (MB), CPU, concurrency and timeout as Cloud Run will get them."""
    memory = resolve(endpoint.get("availableMemoryMb"), params, defaults) or DEFAULT_MEMORY_MB
    declared_cpu = endpoint.get("cpu")
    cpu = GEN1_CPU.get(memory, 0) if declared_cpu == "gcf_gen1" else declared_cpu or GEN2_CPU.get(memory, 1)
    concurrency = resolve(endpoint.get("concurrency"), params, defaults) or (80 if cpu >= 1 else 1)
    timeout = resolve(endpoint.get("timeoutSeconds"), params, defaults) or 60
    return {"memory": memory, "cpu": cpu, "concurrency": concurrency, "timeout": timeout}


def check_resources(manifest: Mapping[str, Any], params: Mapping[str, str]) -> list[str]:
    """What firebase deploy would refuse (validate.js) or Cloud Run would reject."""
    problems = []
    defaults = param_defaults(manifest)
    for name, endpoint in sorted(manifest["endpoints"].items()):
        got = resources(endpoint, params, defaults)
        limit = TIMEOUT_LIMITS[trigger_kind(endpoint)]
        kind = trigger_kind(endpoint)
        if got["timeout"] > limit:
            problems.append(
                f"{name}: timeout {got['timeout']} s is above the {limit} s a {kind} function may have"
                + (" (Cloud Tasks' longest dispatch deadline)" if kind == "task" else "")
            )
        if got["memory"] not in GEN1_CPU:
            problems.append(f"{name}: memory {got['memory']} MB is not a Cloud Functions size")
        if got["concurrency"] > 1 and got["cpu"] < 1:
            problems.append(f"{name}: concurrency {got['concurrency']} needs at least 1 CPU (has {got['cpu']})")
        if got["concurrency"] > 1000:
            problems.append(f"{name}: concurrency {got['concurrency']} is above Cloud Run's 1000")
        if got["cpu"] >= 1 and got["cpu"] not in (1, 2, 4, 6, 8):
            problems.append(f"{name}: cpu {got['cpu']} is not one of 1, 2, 4, 6, 8")
        if (got["memory"] > 1024 and got["cpu"] < 1) or (got["memory"] > 512 and got["cpu"] < 0.5):
            problems.append(f"{name}: {got['memory']} MB needs more than {got['cpu']} CPU")
        need_memory = {4: 2048, 6: 3072, 8: 4096}.get(got["cpu"], 0)
        if got["memory"] < need_memory:
            problems.append(f"{name}: {got['cpu']} CPU need at least {need_memory} MB (has {got['memory']})")
        dispatches = (endpoint.get("taskQueueTrigger") or {}).get("rateLimits", {}).get("maxConcurrentDispatches")
        resolved = resolve(dispatches, params, defaults)
        if dispatches is not None and not (isinstance(resolved, int) and resolved >= 1):
            problems.append(f"{name}: max concurrent dispatches {dispatches} resolves to {resolved!r}, not a count")
    return problems


def check_queues(manifest: Mapping[str, Any], params: Mapping[str, str], queues: Mapping[str, Any]) -> list[str]:
    """Task functions against jobs/queues.py: one row each, declared as the row says, and the
    row's own budget: dispatch deadline <= timeout <= 1800 s, lease renewed inside the deadline."""
    problems = []
    defaults = param_defaults(manifest)
    task_functions = {n: e for n, e in manifest["endpoints"].items() if "taskQueueTrigger" in e}
    for name in sorted(set(task_functions) - set(queues)):
        problems.append(f"{name} is a task queue function without a row in jobs/queues.py")
    for name in sorted(set(queues) - set(task_functions)):
        problems.append(f"jobs/queues.py has a row {name} that no task queue function declares")
    for name, queue in sorted(queues.items()):
        if not MIN_DISPATCH_DEADLINE_SECONDS <= queue.dispatch_deadline_s <= MAX_TASK_SECONDS:
            problems.append(
                f"{name}: dispatch deadline {queue.dispatch_deadline_s} s is outside Cloud Tasks' "
                f"{MIN_DISPATCH_DEADLINE_SECONDS}..{MAX_TASK_SECONDS} s"
            )
        if queue.dispatch_deadline_s > queue.timeout_s:
            problems.append(
                f"{name}: dispatch deadline {queue.dispatch_deadline_s} s is above the function timeout "
                f"{queue.timeout_s} s (Cloud Tasks would wait on a function that was stopped)"
            )
        if queue.timeout_s > MAX_TASK_SECONDS:
            problems.append(f"{name}: timeout {queue.timeout_s} s is above Cloud Tasks' {MAX_TASK_SECONDS} s deadline")
        if queue.renew_every.total_seconds() >= queue.dispatch_deadline_s:
            problems.append(
                f"{name}: the lease ({queue.lease_s} s) is renewed every {queue.renew_every.total_seconds():.0f} s, "
                f"not inside the {queue.dispatch_deadline_s} s dispatch deadline"
            )
        endpoint = task_functions.get(name)
        if endpoint is None:
            continue
        got = resources(endpoint, params, defaults)
        if got["timeout"] != queue.timeout_s:
            problems.append(
                f"{name}: declared timeout {got['timeout']} s, but jobs/queues.py budgets {queue.timeout_s} s"
            )
        if queue.memory is not None and got["memory"] != queue.memory.value:
            problems.append(f"{name}: declared {got['memory']} MB, but jobs/queues.py says {queue.memory.value} MB")
        if queue.concurrency is not None and got["concurrency"] != queue.concurrency:
            problems.append(
                f"{name}: declared concurrency {got['concurrency']}, but jobs/queues.py says {queue.concurrency}"
            )
    return problems
