"""Where the tests find the official contract, and what happens without it: a fresh clone
passes with the compatibility tests skipped and the reason given; CI (REQUIRE_SERVICES=1)
fails; our own schema is checked either way."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.soap_gateway.conftest import (
    OFFICIAL_FILES,
    SOAP_ENV,
    assert_valid_response,
    official_contract_dir,
    official_contract_missing,
    official_schema,
)

REPOSITORY = Path(__file__).resolve().parents[2]
# Two tests of test_contract.py: one compares with the official WSDL, one checks ours only.
CONTRACT_TESTS = [
    "tests/soap_gateway/test_contract.py::test_our_wsdl_states_the_official_operations_messages_and_actions",
    "tests/soap_gateway/test_contract.py::test_valid_documents_are_valid_under_both_schemas[get-ours]",
]


def run_pytest(tmp_path: Path, contract_dir: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """pytest in a child process on its own SQLite file, with OFFICIAL_CONTRACT_DIR set."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "REQUIRE_SERVICES")
    }
    environment.update(
        OFFICIAL_CONTRACT_DIR=str(contract_dir), SQLITE_PATH=str(tmp_path / "child.sqlite3"), **extra_env
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *CONTRACT_TESTS],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def fault_response(detail: str) -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:Client</faultcode><faultstring>x</faultstring><detail>{detail}</detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


INCOMPLETE_FAULT = fault_response(
    '<err:SystemError xmlns:err="http://socialsecurity.be/errors/v1"><err:Origin>Consumer</err:Origin>'
    "<err:Message>m</err:Message></err:SystemError>"
)


def test_without_the_official_files_a_test_that_needs_them_is_skipped_with_the_reason(settings, tmp_path):
    settings.OFFICIAL_CONTRACT_DIR = tmp_path
    with pytest.raises(pytest.skip.Exception) as skipped:
        official_schema("protocol")
    reason = str(skipped.value)
    assert f"OFFICIAL_CONTRACT_DIR={tmp_path}" in reason
    assert str(OFFICIAL_FILES["wsdl"]) in reason
    assert "README" in reason


def test_without_the_official_files_responses_are_still_checked_against_our_schema(settings, tmp_path):
    settings.OFFICIAL_CONTRACT_DIR = tmp_path
    with pytest.raises(AssertionError, match="Code"):  # no err:Code: invalid under our errors schema
        assert_valid_response(INCOMPLETE_FAULT)


def test_the_setting_finds_the_official_files_beside_the_repository_by_default(monkeypatch):
    monkeypatch.delenv("OFFICIAL_CONTRACT_DIR", raising=False)
    completed = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.OFFICIAL_CONTRACT_DIR)"],
        cwd=REPOSITORY,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.stdout.strip() == str(REPOSITORY.parent / "shared" / "contracts" / "soap-v1.11")


def test_a_run_without_the_official_files_passes_and_says_what_it_skipped(tmp_path):
    completed = run_pytest(tmp_path, tmp_path / "empty")
    assert completed.returncode == 0, completed.stdout
    assert "1 passed, 1 skipped" in completed.stdout
    assert "skipped 1: needs the official PresenceRegistration v1.11 contract" in completed.stdout


def test_with_require_services_a_run_without_the_official_files_fails(tmp_path):
    completed = run_pytest(tmp_path, tmp_path / "empty", REQUIRE_SERVICES="1")
    assert completed.returncode == 1, completed.stdout
    assert "REQUIRE_SERVICES=1 but 1 test(s) were skipped" in completed.stdout
    assert "skipped 1: needs the official PresenceRegistration v1.11 contract" in completed.stdout


def test_with_the_official_files_the_contract_tests_run(tmp_path):
    if official_contract_missing():
        pytest.skip(official_contract_missing())
    completed = run_pytest(tmp_path, official_contract_dir(), REQUIRE_SERVICES="1")
    assert completed.returncode == 0, completed.stdout
    assert "2 passed" in completed.stdout
    assert "skipped" not in completed.stdout
