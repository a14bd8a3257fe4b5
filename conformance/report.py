"""The run's report: a table on the terminal and a JUnit XML file for CI."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

PASS, FAIL, SKIP, ERROR = "pass", "FAIL", "skip", "ERROR"


@dataclass(frozen=True)
class Result:
    group: str
    name: str
    expected: str
    got: str
    verdict: str  # PASS, FAIL, SKIP or ERROR
    seconds: float

    @property
    def failed(self) -> bool:
        return self.verdict in (FAIL, ERROR)


def table(results: list[Result], width: int = 60) -> str:
    """One line per scenario: scenario, expected, got, verdict (long texts cut to `width`)."""

    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    rows = [("scenario", "expected", "got", "result")]
    rows += [(cut(f"{r.group}: {r.name}"), cut(r.expected), cut(r.got), r.verdict) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [" | ".join([*(row[i].ljust(widths[i]) for i in range(3)), row[3]]) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in [*widths, 6]))
    counts = {verdict: sum(r.verdict == verdict for r in results) for verdict in (PASS, FAIL, ERROR, SKIP)}
    lines.append(f"{counts[PASS]} passed, {counts[FAIL]} failed, {counts[ERROR]} errors, {counts[SKIP]} skipped")
    return "\n".join(lines)


def write_junit(results: list[Result], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="conformance",
        tests=str(len(results)),
        failures=str(sum(r.verdict == FAIL for r in results)),
        errors=str(sum(r.verdict == ERROR for r in results)),
        skipped=str(sum(r.verdict == SKIP for r in results)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=result.group, name=result.name, time=f"{result.seconds:.3f}")
        if result.verdict == FAIL:
            ET.SubElement(case, "failure", message=f"expected {result.expected}, got {result.got}")
        elif result.verdict == ERROR:
            ET.SubElement(case, "error", message=result.got)
        elif result.verdict == SKIP:
            ET.SubElement(case, "skipped", message=result.got)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
