"""Writing benchmark results: one JSON file per run in bench/results/ and a printed table.

Format: {"machine": ..., "versions": ..., "results": [row, ...]}, each row with the fields
`operation`, `value`, `unit`, `floor`, `floor_value`, `ratio`, `target` (the target's text, or
null), `target_ratio` (the highest ratio the target allows, or null), `met` (true, false, or
null without a target) and `failed` (null, or why the benchmark that owns the row failed: then
the figures are null); a rate below the lowest step of its search has `value` 0, `ratio` null
and a `note` saying so (`below_range`). `ratio` = how many times the floor the operation costs: for times ours
/ the floor's, for rates the floor's / ours; 1.0 would be as cheap as the floor.
"""

import datetime
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any


def results_dir() -> Path:
    """Where a run writes: BENCH_RESULTS_DIR (make bench BENCH=short: var/bench-results/),
    else bench/results/. Read at each write, so run_all may set it after importing this."""
    return Path(os.environ.get("BENCH_RESULTS_DIR") or Path(__file__).resolve().parent / "results")


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


def concurrent(work: list[list[bytes]], action: Callable[[int, bytes], object]) -> float:
    """Run `action(thread number, item)` over each thread's items, the threads at once; return
    the wall time. An exception in any thread fails the run (BenchmarkError raised here once
    all threads ended): a thread that died early would make a rate meaningless."""
    errors: list[Exception] = []

    def run(number: int, items: list[bytes]) -> None:
        try:
            for item in items:
                action(number, item)
        except Exception as error:  # carried to the calling thread, which raises it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(number, items)) for number, items in enumerate(work)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise BenchmarkError(f"{len(errors)} of {len(threads)} threads failed: {errors[0]!r}") from errors[0]
    return elapsed


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }


def versions(*packages: str) -> dict[str, str]:
    return {package: metadata.version(package) for package in packages}


@dataclass(frozen=True)
class Target:
    """The highest ratio a row may have. For a rate the ratio is the floor's rate / ours, so
    "at least half the floor's rate" is a ratio of at most 2 (`text` says it the reader's way)."""

    ratio: float
    text: str = ""

    def __str__(self) -> str:
        return self.text or f"ratio ≤ {self.ratio:g}"

    def met(self, ratio: float) -> bool:
        return ratio <= self.ratio


# The targets of issue 14 (same run, this machine, a full `make bench`) and the request log's
# budget (issue 16, ADR 0016). Each bench attaches the one its row answers to.
TARGETS = {
    "soap in-process vs durable": Target(3),
    "soap http 1 client vs bare": Target(10),
    "soap http 4 clients vs durable": Target(4),
    "rest bulk vs bare": Target(5),
    "rest single vs one insert": Target(2),
    "check-in load vs floor view": Target(2, "rate ≥ 0.5 of the floor's (ratio ≤ 2)"),
    "validation vs sql": Target(round(1 / 0.7, 2), "rate ≥ 0.7 of the floor's (ratio ≤ 1.43)"),
    "request log": Target(1.10),
}


def result(
    operation: str,
    value: float,
    unit: str,
    floor: str,
    floor_value: float,
    ratio: float,
    target: Target | None = None,
) -> dict[str, Any]:
    """One row of the table; fails the run (BenchmarkError) on a figure that is not a
    positive finite number, which only a broken measurement produces."""
    for name, figure in (("value", value), ("floor value", floor_value), ("ratio", ratio)):
        require(figure > 0 and figure != float("inf"), f"{operation}: {name} is {figure}")
    return {
        "operation": operation,
        "value": round(value, 3),
        "unit": unit,
        "floor": floor,
        "floor_value": round(floor_value, 3),
        "ratio": round(ratio, 2),
        "target": None if target is None else str(target),
        "target_ratio": None if target is None else target.ratio,
        "met": None if target is None else target.met(ratio),
        "failed": None,
    }


def below_range(
    operation: str,
    unit: str,
    lowest: float,
    floor: str,
    rates: tuple[float, float],
    target: Target | None = None,
) -> dict[str, Any]:
    """A rate search (ours, the floor's) where one side did not hold even the lowest step
    (`lowest`, given as 0): a result, not a failure of the bench; no ratio. Ours below it
    with the floor above: a target is not met. The floor below it: the machine was too busy
    for the row to say anything, and `met` stays null."""
    value, floor_value = rates
    require(value == 0 or floor_value == 0, f"{operation}: both rates were measured, use result()")
    if floor_value == 0:
        note = f"not measured: the floor did not hold {lowest:g} {unit} either"
        met = None
    else:
        note = f"below {lowest:g} {unit}, the lowest rate tried"
        met = None if target is None else False
    return {
        "operation": operation,
        "value": round(value, 3),
        "unit": unit,
        "floor": floor,
        "floor_value": round(floor_value, 3),
        "ratio": None,
        "target": None if target is None else str(target),
        "target_ratio": None if target is None else target.ratio,
        "met": met,
        "failed": None,
        "note": note,
    }


def failed(operation: str, reason: str) -> dict[str, Any]:
    """The row of a benchmark that failed: no figures, and why."""
    return {
        "operation": operation,
        "value": None,
        "unit": "",
        "floor": "",
        "floor_value": None,
        "ratio": None,
        "target": None,
        "target_ratio": None,
        "met": None,
        "failed": reason,
    }


def write(name: str, results: list[dict[str, Any]], packages: tuple[str, ...] = ("Django", "psycopg")) -> Path:
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{name}-{stamp}.json"
    document = {"machine": machine(), "versions": versions(*packages), "results": results}
    path.write_text(json.dumps(document, indent=2) + "\n")
    print_table(results)
    print(f"\nwritten to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return path


def met_text(row: dict[str, Any]) -> str:
    """The "met" column: yes, no, "-" without a target, FAILED for a failed benchmark."""
    if row.get("failed"):
        return "FAILED"
    met = row.get("met")
    return "-" if met is None else ("yes" if met else "no")


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'operation':52} {'result':>18} {'floor':60} {'floor value':>18} {'ratio':>7} {'met':>6}")
    for row in results:
        if row.get("failed"):
            print(f"{row['operation']:52} FAILED: {row['failed']}")
            continue
        value = row.get("note") or f"{row['value']} {row['unit']}"
        floor_value = f"{row['floor_value']} {row['unit']}"
        print(
            f"{row['operation']:52} {value:>18} {row['floor']:60} {floor_value:>18} {row['ratio'] or '-':>7}"
            f" {met_text(row):>6}"
        )
