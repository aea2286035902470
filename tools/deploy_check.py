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

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (make deploy-check, the predeploy hooks)
    sys.path.insert(0, str(ROOT))
from tools import envfiles  # noqa: E402

MODELS = ROOT / "functions" / "models"
# rembg models the photo kind loads from functions/models (shipped with the functions' source).
# Same checksum as scripts/setup, which extracts the model from its PyPI wheel.
REQUIRED_MODELS = {"u2netp.onnx": "8e83ca70e441ab06c318d82300c84806"}
WEB = ROOT / "web"
DEPLOY_INFO = "deploy.json"  # written into the built dashboard: the page reads the region from it


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


@dataclass(frozen=True)
class Target:
    project: str
    config_dir: Path  # where functions/.env* are read

    @property
    def params(self) -> dict[str, str]:
        """The values firebase deploy gives the functions (never .env.local, which is the emulator's)."""
        return envfiles.project_params(self.project, emulator=False, config_dir=self.config_dir)

    @property
    def region(self) -> str:
        return self.params.get("REGION") or "us-central1"


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


CHECKS: dict[str, Callable[[Target], list[str]]] = {
    "models": lambda _target: check_models(),
    "dashboard": lambda _target: check_dashboard(),
}
PREDEPLOY = {"functions": ["models"], "hosting": ["dashboard"]}


def run(target: Target, names: list[str]) -> Report:
    report = Report()
    for name in names:
        report.check(name, CHECKS[name](target))
    return report


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
    report = run(target, names)
    if args.predeploy == "hosting" and not report.failures:
        report.notes.append(f"wrote {write_deploy_info(target).relative_to(ROOT)} (region {target.region})")
    print_report(report)
    if report.failures:
        print(f"{len(report.failures)} problem(s): fix them before `firebase deploy`.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
