"""Runs the catalogue and collects one result per scenario."""

import json
import time
from pathlib import Path
from typing import Any

from conformance.report import ERROR, FAIL, PASS, SKIP, Result
from conformance.scenarios import Kit, Skip, catalogue


def client_data(path: Path, client_id: str) -> dict[str, Any]:
    """The data file's entry for this client: the one with its id, else its only
    registering client (a vendor's own file need not carry ids)."""
    clients = json.loads(path.read_text(encoding="utf-8"))["clients"]
    for entry in clients:
        if entry.get("clientId") == client_id:
            return dict(entry)
    registering = [entry for entry in clients if entry.get("mayRegister", True)]
    if len(registering) != 1:
        raise ValueError(f"{path}: no entry with clientId {client_id} and not exactly one registering client")
    return dict(registering[0])


def run(kit: Kit, *, groups: set[str] | None = None) -> list[Result]:
    results = []
    for scenario in catalogue(kit):
        if groups and scenario.group not in groups:
            continue
        started = time.monotonic()
        try:
            check = scenario.run()
            verdict = PASS if check.passed else FAIL
            expected, got = check.expected, check.got
        except Skip as skipped:
            verdict, expected, got = SKIP, "", str(skipped)
        # A scenario that crashes (an answer of the wrong shape, a network error) is reported
        # as an error of that scenario; the others still run.
        except Exception as exc:
            verdict, expected, got = ERROR, "", f"{type(exc).__name__}: {exc}"[:500]
        results.append(Result(scenario.group, scenario.name, expected, got, verdict, time.monotonic() - started))
    return results


__all__ = ["ERROR", "FAIL", "PASS", "SKIP", "client_data", "run"]
