"""Helpers shared by the benchmarks: child processes with their peak memory, and tables."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_CSV = ROOT.parent / "shared" / "data" / "amazon_uk_shoes_1k.csv"


def run_measured(args: list[str], env: dict[str, str] | None = None) -> tuple[str, float, float]:
    """Run `python -m ...args` once; return its stdout, wall seconds and peak RSS in MB."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    out = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed with status {status}")
    return out, seconds, usage.ru_maxrss / 1024  # Linux reports kB


def table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def percentile(values: list[float], q: float) -> float:
    """The value at fraction `q` (0.9: the 90th percentile) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]
