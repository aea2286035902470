"""Benchmark rows and process measurements shared by the suites."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tools.devstack import pids_with_env


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""  # e.g. ">= 0.7" (ratio value/baseline) or "<= 200" (value itself)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    @property
    def meets_target(self) -> bool:
        if not self.target:
            return True
        op, number = self.target.split()
        measured = self.ratio if self.ratio is not None else self.value
        return measured >= float(number) if op == ">=" else measured <= float(number)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ratio": self.ratio, "meets_target": self.meets_target}


PASSES = 3  # a measured path and its baseline alternate this many times (--quick: once)


def median_pair(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """The (ours, baseline) pair of seconds whose ratio baseline/ours is the median: one pass
    varies by +-15% on a shared 2-core machine, and alternating passes keep a slow spell from
    landing on one side only."""
    return sorted(pairs, key=lambda pair: pair[1] / pair[0])[len(pairs) // 2]


def print_table(rows: list[Row]) -> None:
    print(f"\n{'benchmark':44} {'value':>14} {'baseline':>24} {'ratio':>7} {'target':>8}  ok")
    for row in rows:
        base = f"{row.baseline:,.1f} {row.baseline_name}"[:24] if row.baseline else ""
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
        print(
            f"{row.name:44} {row.value:>10,.1f} {row.unit:>3} {base:>24} {ratio:>7} {row.target:>8}  "
            f"{'yes' if row.meets_target else 'NO'}"
        )


def worker_pids(function: str) -> list[int]:
    """The functions-framework workers the emulator started for `function`."""
    return pids_with_env("FUNCTION_TARGET", function)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
