"""`make serve`'s gunicorn with several workers: a scrape answered by any one worker counts the
calls every worker served (PROMETHEUS_MULTIPROC_DIR), and its JSON access lines carry the
request id each answer gave."""

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import free_port, worker_environment
from tests.observability.scrape import METRICS_TOKEN, parse, value
from tests.processes import http_get, listening, running, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CONTRACT = "/PresenceRegistration/v1?wsdl"


def test_a_scrape_of_one_worker_sums_the_calls_of_all_workers(tmp_path):
    port, output, directory = free_port(), tmp_path / "gunicorn.log", tmp_path / "prometheus"
    directory.mkdir()
    env = worker_environment(broker_url="")
    env.pop("CELERY_BROKER_URL")
    env |= {"PROMETHEUS_MULTIPROC_DIR": str(directory), "LOG_FORMAT": "json", "METRICS_TOKEN": METRICS_TOKEN}
    command = [
        *(sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "python:config.gunicorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "2"),
    ]
    with running(command, {**env, "PYTHONUNBUFFERED": "1"}, output):
        wait_for(lambda: listening(port), "gunicorn listening", output)
        answers = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            # Calls until both workers have served some (each request line names its process).
            while len(answers) < 400 and len(serving_processes(output)) < 2:
                answers += pool.map(lambda _: http_get(port, CONTRACT), range(8))
        status, _, body = http_get(port, "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        wait_for(lambda: access_lines(output, len(answers)), "the access lines", output)

    assert len(serving_processes(output)) == 2
    assert {answer[0] for answer in answers} == {200}
    assert status == 200
    contract_calls = {"gateway": "soap", "operation": "contract", "outcome": "success"}
    assert value(parse(body.decode()), "presence_requests_total", **contract_calls) == len(answers)
    ids = {headers["x-request-id"] for _, headers, _ in answers}
    assert len(ids) == len(answers)
    assert {line["request_id"] for line in access_lines(output, len(answers))} >= ids


def json_lines(output) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.read_text().splitlines() if line.startswith("{")]


def serving_processes(output) -> set[int]:
    return {line["process"] for line in json_lines(output) if line["logger"] == "presence.requests"}


def access_lines(output, at_least: int) -> list[dict[str, Any]]:
    lines = [line for line in json_lines(output) if line["logger"] == "gunicorn.access"]
    return lines if len(lines) >= at_least else []
