"""Cold import of functions/main.py against importing just firebase_functions and firebase_admin."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Row

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def timed(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=FUNCTIONS, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(quick: bool = False) -> list[Row]:
    runs = 3 if quick else 7
    baseline = timed("import firebase_functions.https_fn, firebase_functions.firestore_fn, firebase_admin", runs)
    ours = timed("import main", runs)
    return [Row("cold import of main.py (median)", ours, "s", baseline, "SDK imports alone", "<= 1.3")]
