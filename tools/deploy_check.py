"""`make deploy-check`: an offline preflight of a deploy to a Firebase project, and the predeploy hooks.

    python tools/deploy_check.py [--project ID] [--skip CHECK,...]
    python tools/deploy_check.py --predeploy functions|hosting   (firebase.json's hooks)

It checks what can be checked without the project: the deploy manifest that firebase-tools
would discover (every function in REGION, resources within the code's own budgets, every param
set for the project), the rules compile, the dashboard is built and the models are present. It
ends with the steps only the Google Cloud / Firebase console (or gcloud) can do. Exit status 1
when a check fails, with what to change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (make deploy-check, the predeploy hooks)
    sys.path.insert(0, str(ROOT))
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))
from mediajobs.photos.models_catalogue import CATALOGUE  # noqa: E402
from tools import deploy_manifest, envfiles, rules_check  # noqa: E402

MODELS = ROOT / "functions" / "models"
# rembg models the photo kind loads from functions/models (shipped with the functions' source).
# Same checksum as scripts/setup, which extracts the model from its PyPI wheel.
REQUIRED_MODELS = {CATALOGUE["u2netp"].filename: CATALOGUE["u2netp"].md5}  # what scripts/setup installs
WEB = ROOT / "web"
DEPLOY_INFO = "deploy.json"  # written into the built dashboard: the page reads the region from it
EVENTS_CHANNEL_ID = "firebase"  # the default Firebase channel (mediajobs/events.py)


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def check(self, name: str, problems: list[str]) -> None:
        if problems:
            self.failures.extend(f"{name}: {problem}" for problem in problems)
        else:
            self.passed.append(name)


@dataclass
class Target:
    project: str
    config_dir: Path  # where functions/.env* are read
    _manifest: dict[str, Any] | None = None

    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            self._manifest = deploy_manifest.discover(self.project, self.params)
        return self._manifest

    @property
    def env_names(self) -> str:
        return f"functions/.env or functions/.env.{self.project}"

    @property
    def params(self) -> dict[str, str]:
        """The values firebase deploy gives the functions (never .env.local, which is the emulator's)."""
        return envfiles.project_params(self.project, emulator=False, config_dir=self.config_dir)

    @property
    def region(self) -> str:
        return self.params.get("REGION") or "us-central1"

    @property
    def replicate(self) -> bool:
        return self.params.get("GENERATION_PROVIDER", "") != "local"

    def function_url(self, name: str) -> str:
        from mediajobs import config

        return config.deployed_function_url(name, self.region, self.project)

    @property
    def stream_base_url(self) -> str:
        """What `download_url` hands players (mediajobs.video.stream.base_url, deployed)."""
        return (self.params.get("STREAM_BASE_URL") or "").rstrip("/") or self.function_url("stream")

    @property
    def events_channel(self) -> str:
        """Where lifecycle events are published (mediajobs.config.events_location(), deployed)."""
        location = self.params.get("EVENTS_LOCATION") or self.region
        return f"projects/{self.project}/locations/{location}/channels/{EVENTS_CHANNEL_ID}"

    @property
    def webhook_url(self) -> str:
        """What predictions carry (mediajobs.config.replicate_webhook_url(), deployed)."""
        return self.params.get("REPLICATE_WEBHOOK_URL") or self.function_url("replicate_webhook")

    def endpoints(self) -> list[str]:
        """Where this deploy's URLs and events go, and which setting decides each."""
        how = "derived from project and REGION"
        lines = [
            f"stream URL      {self.stream_base_url} "
            f"({'STREAM_BASE_URL' if self.params.get('STREAM_BASE_URL') else f'STREAM_BASE_URL empty: {how}'})",
            f"events channel  {self.events_channel} "
            f"({'EVENTS_LOCATION' if self.params.get('EVENTS_LOCATION') else 'EVENTS_LOCATION empty: REGION'})",
        ]
        if self.replicate:
            explicit = self.params.get("REPLICATE_WEBHOOK_URL")
            lines.append(
                f"webhook URL     {self.webhook_url} "
                f"({'REPLICATE_WEBHOOK_URL' if explicit else f'REPLICATE_WEBHOOK_URL empty: {how}'})"
            )
        else:
            lines.append("webhook URL     none (GENERATION_PROVIDER=local: no Replicate predictions)")
        return lines


def default_project() -> str:
    if project := os.environ.get("GCLOUD_PROJECT"):
        return project
    rc = json.loads((ROOT / ".firebaserc").read_text())
    return str(rc["projects"]["default"])


def check_models() -> list[str]:
    problems = []
    for name, md5 in REQUIRED_MODELS.items():
        path = MODELS / name
        if not path.is_file():
            problems.append(f"{path.relative_to(ROOT)} is missing: run scripts/setup (it extracts it from PyPI)")
        elif hashlib.md5(path.read_bytes()).hexdigest() != md5:
            problems.append(f"{path.relative_to(ROOT)} has the wrong checksum (want md5 {md5}): run scripts/setup")
    return problems


def newest_source(folder: Path) -> float:
    return max(p.stat().st_mtime for p in folder.rglob("*") if p.is_file() and "dist" not in p.parts)


def check_dashboard() -> list[str]:
    index = WEB / "dist" / "index.html"
    if not index.is_file():
        return ["web/dist/index.html is missing: build the dashboard (scripts/setup, or vite build web)"]
    if newest_source(WEB) > index.stat().st_mtime:
        return ["web/dist is older than web/: rebuild it (scripts/setup, or node_modules/.bin/vite build web)"]
    return []


def write_deploy_info(target: Target) -> Path:
    """What the deployed page cannot get from Hosting's /__/firebase/init.json: the region."""
    path = WEB / "dist" / DEPLOY_INFO
    path.write_text(json.dumps({"projectId": target.project, "region": target.region}, indent=2) + "\n")
    return path


def check_discovery(target: Target) -> list[str]:
    try:
        endpoints = target.manifest["endpoints"]
    except deploy_manifest.DiscoveryError as error:
        return [str(error)]
    return [] if endpoints else ["main.py declares no function"]


def check_region(target: Target) -> list[str]:
    firebase_json = json.loads((ROOT / "firebase.json").read_text())
    return deploy_manifest.check_regions(
        target.manifest, target.params, target.region
    ) + deploy_manifest.check_hosting_rewrites(firebase_json, target.region)


def check_queues(target: Target) -> list[str]:
    from mediajobs.jobs import queues

    return deploy_manifest.check_queues(target.manifest, target.params, queues.QUEUES)


def check_secrets(target: Target) -> list[str]:
    """A Replicate provider needs its token bound to sceneitems (and the webhook secret to the webhook)."""
    bound = deploy_manifest.secrets_of(target.manifest)
    provider = target.params.get("GENERATION_PROVIDER", "")
    if provider == "local":
        return [f"GENERATION_PROVIDER=local, yet {name} is declared" for name in bound if name.startswith("REPLICATE")]
    wanted = {"REPLICATE_API_TOKEN": "sceneitems", "REPLICATE_WEBHOOK_SECRET": "replicate_webhook"}
    return [
        f"GENERATION_PROVIDER={provider!r}, but the secret {secret} is not bound to {function}"
        for secret, function in wanted.items()
        if function not in bound.get(secret, [])
    ]


REQUEST_LIMIT_MB = 32  # Cloud Run (and so Cloud Functions 2nd gen) refuses bigger HTTP/1 requests itself


def check_limits(target: Target) -> list[str]:
    """Limits the functions enforce must be reachable deployed, or clients get Google's HTML 413."""
    upload_mb = target.params.get("UPLOAD_MAX_MB", "")
    if upload_mb.isdigit() and int(upload_mb) > REQUEST_LIMIT_MB:
        return [
            f"UPLOAD_MAX_MB={upload_mb} is above the {REQUEST_LIMIT_MB} MiB a deployed function accepts: bigger "
            "uploads would get Google's HTML 413, not the function's JSON error; send big batches through "
            "Storage (resumable upload) and start_job"
        ]
    return []


CHECKS: dict[str, Callable[[Target], list[str]]] = {
    "discovery": check_discovery,
    "params": lambda t: deploy_manifest.check_params(t.manifest, t.params, t.env_names),
    "region": check_region,
    "resources": lambda t: deploy_manifest.check_resources(t.manifest, t.params),
    "queues": check_queues,
    "secrets": check_secrets,
    "limits": check_limits,
    "rules": lambda _target: rules_check.check_rules(),
    "dashboard": lambda _target: check_dashboard(),
    "models": lambda _target: check_models(),
}
NEEDS_MANIFEST = ("params", "region", "resources", "queues", "secrets")
PREDEPLOY = {
    "functions": ["discovery", "params", "region", "resources", "queues", "secrets", "limits", "models"],
    "hosting": ["dashboard"],
}


def run(target: Target, names: list[str]) -> Report:
    report = Report()
    for name in names:
        if name in NEEDS_MANIFEST and any(f.startswith("discovery:") for f in report.failures):
            continue
        try:
            report.check(name, CHECKS[name](target))
        except (deploy_manifest.DiscoveryError, RuntimeError, OSError) as error:
            report.check(name, [str(error)])
    return report


def console_steps(target: Target) -> list[str]:
    """What firebase deploy cannot do, in the order an operator does it (README, Deploying)."""
    project, region = target.project, target.region
    account = f"PROJECT_NUMBER-compute@developer.gserviceaccount.com (gcloud projects describe {project})"
    steps = [
        f"Blaze (pay as you go) plan on {project}: Cloud Functions, Cloud Tasks and Scheduler need it",
        f"Firestore: create the (default) database in a location that suits REGION={region} "
        "(nam5 for us-central1, eur3 for europe-west1/4; on_job_created runs beside it)",
        "Storage: create the default bucket (same location)",
        "Authentication: enable the Email/Password sign-in provider",
        "Register a web app (npx firebase apps:create web) so Hosting serves /__/firebase/init.json",
        f"Enable the IAM Service Account Credentials API (signed download URLs): "
        f"gcloud services enable iamcredentials.googleapis.com --project {project}",
        f"Grant the functions' service account {account} roles/cloudtasks.enqueuer, "
        "roles/iam.serviceAccountUser and roles/iam.serviceAccountTokenCreator",
    ]
    try:
        secrets = deploy_manifest.secrets_of(target.manifest)
    except deploy_manifest.DiscoveryError:
        secrets = {}
    for secret, functions in secrets.items():
        steps.append(
            f"npx firebase functions:secrets:set {secret} --project {project} (bound to {', '.join(functions)})"
        )
    if target.replicate:
        steps.append(f"Replicate sends prediction news to {target.webhook_url} (see the webhook URL above)")
    else:
        steps.append("Scenes use the local provider: no Replicate secret is declared or needed")
    steps += [
        "Administrators: set the custom claim admin: true (auth.set_custom_user_claims(uid, {'admin': True}))",
        "Retention: Firestore TTL policies and the bucket's lifecycle rules (README, Retention)",
        "Log-based metrics and alerts from ops/ (README, Operations)",
    ]
    return steps


def print_report(report: Report) -> None:
    for name in report.passed:
        print(f"  ok    {name}")
    for failure in report.failures:
        print(f"  FAIL  {failure}")
    for note in report.notes:
        print(f"  note  {note}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="deploy_check", description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=None, help="project id (default: $GCLOUD_PROJECT, then .firebaserc)")
    parser.add_argument("--config-dir", type=Path, default=envfiles.FUNCTIONS, help="folder of the .env files")
    parser.add_argument("--skip", default="", help=f"comma-separated checks to leave out: {','.join(CHECKS)}")
    parser.add_argument("--predeploy", choices=sorted(PREDEPLOY), help="run as firebase.json's predeploy hook")
    args = parser.parse_args(argv)
    target = Target(args.project or default_project(), args.config_dir)
    skipped = {s for s in args.skip.split(",") if s}
    if unknown := skipped - set(CHECKS):
        parser.error(f"unknown checks: {sorted(unknown)}")
    names = PREDEPLOY[args.predeploy] if args.predeploy else [n for n in CHECKS if n not in skipped]
    print(f"deploy check for project {target.project}, region {target.region}")
    if not args.predeploy:
        for line in target.endpoints():
            print(f"  {line}")
    report = run(target, names)
    if args.predeploy == "hosting" and not report.failures:
        report.notes.append(f"wrote {write_deploy_info(target).relative_to(ROOT)} (region {target.region})")
    print_report(report)
    if not args.predeploy:
        print("Only the console (or gcloud) can do these; check them once per project:")
        for number, step in enumerate(console_steps(target), 1):
            print(f"  [{number:2}] {step}")
    if report.failures:
        print(f"{len(report.failures)} problem(s): fix them before `firebase deploy`.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
