"""The Prometheus configuration and alert rules of deploy/prometheus pass promtool's checks and
its unit tests of the rules (as `make prometheus-check` and CI run them)."""

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"

pytestmark = [
    pytest.mark.embedded,  # needs no database: once per run is enough
    pytest.mark.skipif(shutil.which("promtool") is None, reason="needs promtool (Debian package prometheus)"),
]


@pytest.mark.parametrize(
    "check",
    [("check", "config", "prometheus.yml"), ("check", "rules", "alerts.yml"), ("test", "rules", "alerts_test.yml")],
    ids=["config", "rules", "rule-tests"],
)
def test_promtool_accepts(check):
    completed = subprocess.run(["promtool", *check], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
