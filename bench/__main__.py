"""`make bench`: benchmarks on the real local stack, each a ratio against a baseline measured
in the same run. Prints one table and writes bench/results/<timestamp>.json.

    python -m bench [--only export] [--quick]     (run inside ./dev exec)

With MEDIAJOBS_STORAGE_LATENCY_MS set before ./dev exec (`make bench` sets 20), Storage sits
behind bench/latency_proxy.py: it forwards at once, except during the export suite's latency
passes. Every row prints its target and verdict ("reported": a figure without a target).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from bench import engine_bench, export_bench, import_bench, photo_bench, scenes_bench, video_bench
from bench.common import Row, no_storage_delay, print_table, storage_latency_ms

SUITES = {
    "imports": import_bench.run,
    "engine": engine_bench.run,
    "export": export_bench.run,
    "photos": photo_bench.run,
    "scenes": scenes_bench.run,
    "video": video_bench.run,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", choices=sorted(SUITES), action="append")
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke run")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows: list[Row] = []
    no_storage_delay()  # the latency proxy, when there is one, delays only the export's latency passes
    latency = storage_latency_ms()
    print(f"Storage latency regime: {f'{latency:g} ms per request' if latency is not None else 'off'}; "
          f"load average at start {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    for name in args.only or sorted(SUITES):
        rows.extend(SUITES[name](quick=args.quick))
    print_table(rows)
    print(f"load average at the end {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min); "
          f"the suites took {(time.monotonic() - started) / 60:.1f} min")  # fmt: skip
    out = Path(__file__).parent / "results" / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps([r.as_dict() for r in rows], indent=2))
    print(f"\nresults: {out}")
    return 0 if all(r.meets_target for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
