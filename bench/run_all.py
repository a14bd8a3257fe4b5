"""`make bench`: start what the benchmarks need, run them all, print one table.

PostgreSQL and Redis are started first by scripts/services.sh if they are down. This script
then migrates its own databases (presence_bench_*), starts gunicorn with the production
settings on a free loopback port, a Celery worker (Redis DB 8) and, for the REST floor, a
second gunicorn serving a minimal view; runs the benchmarks of FULL (or SHORT), which are all
of bench/ but soap_hostile.py (no database, run it alone), each repeating its measurement
--runs times and reporting the median; and prints the combined table: operation,
result, floor, floor value, ratio (how many times the floor the operation costs), target
(issue 14's, where the row answers one) and whether it is met.

Results: bench/results/<bench>-<time>.json per benchmark and bench-<time>.json for the whole
table (format of bench/report.py), and the table in docs/performance.md. `--short` (what CI
runs: small data, one repetition) writes to var/bench-results/ and leaves the docs alone.
A benchmark that fails (an exception in a measured call or in a floor exits its script
non-zero) gets a FAILED row in the table and makes the exit status non-zero; the others still
run, and a full run with a failure leaves docs/performance.md alone.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report, stack

ROOT = stack.ROOT
PYTHON = str(stack.BIN / "python")
REDIS = "redis://127.0.0.1:6379"
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:table:start -->", "<!-- bench:table:end -->"

FULL = {
    "soap_http": ["--runs", "5", "--calls", "8"],
    "checkin_load": ["--runs", "5", "--seconds", "2"],
    "rest_register": ["--runs", "5", "--warmup", "3"],
    "soap_register": ["--runs", "20", "--warmup", "3"],
    "search": ["--rows", "10000000", "--queries", "40", "--runs", "5"],
    "history": ["--registrations", "1000000", "--lookups", "500", "--runs", "5"],
    "validation": ["--registrations", "10000", "--runs", "5"],
    "addresses": ["--addresses", "2000000", "--points", "2000"],
    # Issue 15 (at_scale): 50 M registrations over 25 months next to 10 M over 5; the purge of one month.
    "scale": [
        "--months",
        "25",
        "--floor-months",
        "5",
        "--month-rows",
        "2000000",
        "--queries",
        "40",
        "--lookups",
        "200",
        "--ingest",
        "20000",
        "--runs",
        "5",
    ],
    "purge": ["--row-by-row-batches", "0"],
}
SHORT = {
    "soap_http": ["--runs", "1", "--calls", "2"],
    "checkin_load": ["--runs", "1", "--seconds", "0.5"],
    "rest_register": ["--runs", "1", "--warmup", "1"],
    "soap_register": ["--runs", "2", "--warmup", "1"],
    "search": ["--rows", "100000", "--queries", "10", "--runs", "1"],
    "history": ["--registrations", "10000", "--lookups", "50", "--runs", "1"],
    "validation": ["--registrations", "1000", "--runs", "1"],
    "addresses": ["--addresses", "20000", "--points", "200"],
    "scale": [
        "--months",
        "3",
        "--floor-months",
        "2",
        "--month-rows",
        "3000",
        "--queries",
        "10",
        "--lookups",
        "20",
        "--ingest",
        "500",
        "--runs",
        "1",
    ],
    "purge": ["--row-by-row-batches", "0"],
}


class Runner:
    """Runs one bench script at a time and collects the rows it wrote."""

    def __init__(
        self, results_dir: Path, arguments: dict[str, list[str]], only: set[str], scripts: Path | None = None
    ) -> None:
        self.results_dir, self.arguments, self.only = results_dir, arguments, only
        self.scripts = scripts or ROOT / "bench"  # where bench/NAME.py is
        self.rows: list[dict[str, Any]] = []
        self.failed: list[str] = []

    def run(self, name: str, environment: dict[str, str], *extra: str) -> None:
        if name not in self.only:
            return
        print(f"\n== bench/{name}.py", flush=True)
        started = time.time()
        command = [PYTHON, str(self.scripts / f"{name}.py"), *self.arguments[name], *extra]
        environment = {**environment, "BENCH_RESULTS_DIR": str(self.results_dir)}
        completed = subprocess.run(command, env=environment, cwd=ROOT, check=False)  # noqa: S603
        written = sorted(
            (p for p in self.results_dir.glob("*.json") if p.stat().st_mtime >= started - 1 and p.name[0] != "."),
            key=lambda p: p.stat().st_mtime,
        )
        written = [p for p in written if not p.name.startswith("bench-")]
        if completed.returncode != 0 or not written:
            reason = f"exit {completed.returncode}" if completed.returncode else "no results written"
            self.fail(f"bench/{name}.py", reason)
            return
        self.rows += json.loads(written[-1].read_text())["results"]

    def fail(self, name: str, reason: str) -> None:
        """A failed benchmark: its FAILED row in the table, and a non-zero exit at the end."""
        self.failed.append(name)
        self.rows.append(report.failed(name, reason))
        print(f"!! {name} failed ({reason})", flush=True)

    def guarded(self, name: str, body: Callable[[], None]) -> None:
        """Run `body` (starting servers, then benches); a failure of its own fails `name`."""
        try:
            body()
        except Exception as error:  # reported as a FAILED row; the other groups still run
            traceback.print_exc()
            self.fail(name, f"{type(error).__name__}: {error}")


def over_http(runner: Runner, short: bool) -> None:
    """SOAP and REST load against gunicorn + a Celery worker, production settings."""
    database = stack.ensure_database("presence_bench_http")
    # soap_http's webhook receiver listens on loopback over http: an operator's exception.
    webhooks = {"WEBHOOK_ALLOW_HTTP": "1", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}
    environment = stack.app_environment(database, f"{REDIS}/8", **webhooks)
    stack.manage(environment, "migrate", "--no-input", "-v", "0")
    stack.flush_redis(f"{REDIS}/8")  # tasks left by an earlier run would delay this run's lag
    port, floor_port = stack.free_port(), stack.free_port()
    worker = stack.celery_worker(environment, "bench-worker", concurrency=1)
    web = stack.gunicorn(environment, port, workers=2)
    floor_web = stack.gunicorn({**environment, "DJANGO_SETTINGS_MODULE": "bench.floor_settings"}, floor_port, workers=2)
    with stack.stopping(floor_web, web, worker):
        stack.warm(f"http://127.0.0.1:{port}/PresenceRegistration/v1?wsdl")
        runner.run("soap_http", environment, "--url", f"http://127.0.0.1:{port}")
        runner.run("checkin_load", environment, "--url", f"http://127.0.0.1:{port}",
                   "--floor-url", f"http://127.0.0.1:{floor_port}")  # fmt: skip


def in_process(runner: Runner, short: bool) -> None:
    """The benchmarks that call the core directly, each on its own database."""
    rest = stack.app_environment(stack.ensure_database("presence_bench_rest"), f"{REDIS}/9")
    runner.run("rest_register", rest)
    soap = stack.app_environment(stack.ensure_database("presence_bench_soap"), f"{REDIS}/9")
    runner.run("soap_register", soap)
    search_db = "presence_bench_search_short" if short else "presence_bench_search"
    search = stack.app_environment(stack.ensure_database(search_db), f"{REDIS}/10")
    runner.run("search", search)
    runner.run("history", search)
    validation = stack.app_environment(stack.ensure_database("presence_bench_validation"), f"{REDIS}/10")
    runner.run("validation", validation)
    addresses_db = "presence_bench_addresses_short" if short else "presence_bench_addresses"
    addresses = stack.app_environment(stack.ensure_database(addresses_db), f"{REDIS}/10")
    runner.run("addresses", addresses)


def at_scale(runner: Runner, short: bool) -> None:
    """Issue 15: the scale benchmark on its two data sets, then the purge on a copy of the
    smaller one (bench/scale.py, bench/purge.py)."""
    suffix = "_short" if short else ""
    floor = stack.ensure_database(f"presence_bench_scale10{suffix}")
    large = stack.app_environment(stack.ensure_database(f"presence_bench_scale{suffix}"), f"{REDIS}/10")
    runner.run("scale", large, "--floor-database-url", floor)
    purge = stack.app_environment(stack.ensure_database(f"presence_bench_purge{suffix}"), f"{REDIS}/10")
    runner.run("purge", purge, "--template-database", f"presence_bench_scale10{suffix}")


def latest_rows(results_dir: Path, names: list[str], failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of each bench's newest result file, in the table's order; a bench that failed
    in this run has its FAILED row instead (never an older success)."""
    rows: list[dict[str, Any]] = []
    failed_by_name = {row["operation"]: row for row in failed}
    for name in names:
        if f"bench/{name}.py" in failed_by_name:
            rows.append(failed_by_name[f"bench/{name}.py"])
            continue
        files = sorted(results_dir.glob(f"{name}-*.json"), key=lambda p: p.stat().st_mtime)
        if name == "rest_register":
            files = [f for f in files if "-postgresql-" in f.name]
        if files:
            rows += json.loads(files[-1].read_text())["results"]
    return rows


def markdown(rows: list[dict[str, Any]], when: str, machine: dict[str, Any]) -> str:
    lines = [
        f"Last full run: {when}, {machine['cpus']} CPUs, Python {machine['python']} (`make bench`).",
        "",
        "| operation | result | floor | floor value | ratio | target | met |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    for row in rows:
        if row.get("failed"):
            lines.append(f"| {row['operation']} | FAILED: {row['failed']} | | | | | |")
            continue
        result = row.get("note") or f"{row['value']} {row['unit']}"
        lines.append(
            f"| {row['operation']} | {result} | {row['floor']} "
            f"| {row['floor_value']} {row['unit']} | {row['ratio']} | {row.get('target') or '-'} "
            f"| {report.met_text(row)} |"
        )
    return "\n".join(lines)


def update_doc(rows: list[dict[str, Any]], machine: dict[str, Any]) -> None:
    text = DOC.read_text()
    if START not in text or END not in text:
        print(f"!! {DOC.name} has no table markers; not updated")
        return
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{markdown(rows, when, machine)}\n{END}{tail}")
    print(f"updated {DOC.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small data, one repetition (CI)")
    parser.add_argument("--only", help="comma-separated benches to run again; the table takes the others' latest")
    args = parser.parse_args()
    results_dir = ROOT / ("var/bench-results" if args.short else "bench/results")
    results_dir.mkdir(parents=True, exist_ok=True)
    os.environ["BENCH_RESULTS_DIR"] = str(results_dir)
    arguments = SHORT if args.short else FULL
    only = set(args.only.split(",")) if args.only else set(arguments)
    runner = Runner(results_dir, arguments, only)
    started = time.perf_counter()
    if only & {"soap_http", "checkin_load"}:
        runner.guarded("over_http", lambda: over_http(runner, args.short))
    runner.guarded("in_process", lambda: in_process(runner, args.short))
    if only & {"scale", "purge"}:
        runner.guarded("at_scale", lambda: at_scale(runner, args.short))
    if args.only:
        failed_rows = [row for row in runner.rows if row.get("failed")]
        runner.rows = latest_rows(results_dir, list(arguments), failed_rows)
        runner.rows += [row for row in failed_rows if row not in runner.rows]  # a group's own failure

    print(f"\n== all benchmarks ({'short' if args.short else 'full'}), {time.perf_counter() - started:.0f} s\n")
    report.write("bench", runner.rows)
    if not args.short and not runner.failed:
        update_doc(runner.rows, report.machine())
    if runner.failed:
        sys.exit(f"failed: {', '.join(runner.failed)}")


if __name__ == "__main__":
    main()
