"""Writing benchmark results: one JSON file per run in bench/results/ and a printed table.

Format: {"machine": ..., "versions": ..., "results": [{"operation", "value", "unit", "floor",
"floor_value", "ratio"}]}. `ratio` = how many times the floor the operation costs (time
ratios) — 1.0 would be as fast as the floor.
"""

import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

# BENCH_RESULTS_DIR: where a run writes (make bench BENCH=short writes to var/, not here).
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or Path(__file__).resolve().parent / "results")


class BenchmarkError(RuntimeError):
    """The measured work did not do what it is measured for: its figure would mean nothing."""


def require(condition: bool, detail: object) -> None:
    """Fails the run unless `condition` holds; unlike `assert`, it also runs under `python -O`."""
    if not condition:
        raise BenchmarkError(detail)


def median_seconds(run: Callable[[], Any], repetitions: int) -> float:
    """The median wall time of `repetitions` calls of `run`."""
    durations = []
    for _ in range(repetitions):
        started = time.perf_counter()
        run()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def paired_medians(treated: list[float], control: list[float]) -> tuple[float, float]:
    """(the control's median plus the median of the pairs' differences, the control's median).

    Each treated run is paired with the control run next to it: a machine load that drifts
    during the run moves both members of a pair alike, so the differences keep the treatment's
    own cost where the two medians apart would each carry their share of the drift.
    """
    differences = [one - other for one, other in zip(treated, control, strict=True)]
    base = statistics.median(control)
    return base + statistics.median(differences), base


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }


def versions(*packages: str) -> dict[str, str]:
    return {package: metadata.version(package) for package in packages}


def result(operation: str, value: float, unit: str, floor: str, floor_value: float, ratio: float) -> dict[str, Any]:
    return {
        "operation": operation,
        "value": round(value, 3),
        "unit": unit,
        "floor": floor,
        "floor_value": round(floor_value, 3),
        "ratio": round(ratio, 2),
    }


def write(name: str, results: list[dict[str, Any]], packages: tuple[str, ...] = ("Django", "psycopg")) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{name}-{stamp}.json"
    document = {"machine": machine(), "versions": versions(*packages), "results": results}
    path.write_text(json.dumps(document, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return path


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'operation':44} {'result':>16} {'floor':38} {'floor value':>14} {'ratio':>7}")
    for row in results:
        value = f"{row['value']} {row['unit']}"
        floor_value = f"{row['floor_value']} {row['unit']}"
        print(f"{row['operation']:44} {value:>16} {row['floor']:38} {floor_value:>14} {row['ratio']:>7}")
