"""The conformance kit against a live server (both passes), on the seeded demo world: it
proves the demo sheet true through the gateways, over HTTP, and finds a broken promise."""

import ast
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from conformance.report import FAIL, PASS, SKIP
from conformance.rest import RestClient
from conformance.runner import client_data, run
from conformance.scenarios import Kit, Party
from conformance.soap import SoapClient
from registrations.models import ClientRole
from registrations.services.demo import create_demo_client
from tests.factories import make_enterprise_number

KIT = Path(__file__).resolve().parents[2] / "conformance"
CORE = {"registrations", "soap_gateway", "rest_gateway", "history"}
NOT_PRODUCTION = "--i-know-this-is-not-production"


def party(base_url: str, folder: Path, name: str) -> Party:
    return Party(
        soap=SoapClient(f"{base_url}/PresenceRegistration/v1", folder / f"{name}.key.pem", folder / f"{name}.cert.pem"),
        rest=RestClient(
            f"{base_url}/REST/presenceRegistration/v1",
            f"{base_url}/REST/oauth/v5/token",
            (folder / f"{name}.client-id").read_text().strip(),
            (folder / f"{name}.key.pem").read_text(),
        ),
    )


@pytest.fixture
def demo_server(live_server, tmp_path, settings):
    """The demo world behind a live server, its sheet as the data file, and the clients."""
    settings.DEMO_CREDENTIALS_DIR = folder = tmp_path / "demo"
    call_command("seed_demo", NOT_PRODUCTION, stdout=io.StringIO())
    # A second enterprise client, of another enterprise: the duplicates-from-two-senders scenario.
    create_demo_client("Second sender", make_enterprise_number(), ClientRole.ENTERPRISE, "second")
    out = io.StringIO()
    call_command("demo_sheet", "--json", stdout=out)
    sheet = tmp_path / "sheet.json"
    sheet.write_text(out.getvalue())
    main = party(live_server.url, folder, "enterprise")
    kit = Kit(
        main=main,
        data=client_data(sheet, main.rest.client_id),
        consult=party(live_server.url, folder, "inspection"),
        second=party(live_server.url, folder, "second"),
    )
    for each in (kit.main, kit.consult, kit.second):
        each.rest.authenticate()
    return kit


@pytest.mark.django_db(transaction=True)
def test_every_combination_of_the_demo_sheet_gives_its_promised_outcome_through_the_gateways(demo_server):
    demo_server.rate_limit = True
    results = run(demo_server)
    failed = [r for r in results if r.verdict not in (PASS, SKIP)]
    assert not failed, "\n".join(f"{r.group}: {r.name}: expected {r.expected}, got {r.got}" for r in failed)
    data = demo_server.data
    combinations = len(data["clean"]) + len(data["remarks"]) + len(data["admissionErrors"])
    sheet_results = [r for r in results if r.group in ("clean", "remarks", "admissionErrors")]
    assert [r.verdict for r in sheet_results] == [PASS] * combinations
    assert [remark["key"] for remark in data["remarks"]] == [f"remark-{n:02d}" for n in range(1, 19)]
    errors = sorted(int(e["key"].rsplit("-", 1)[1]) for e in data["admissionErrors"] if "soap" in e["key"])
    assert errors == [2, 3, 4, 5, 6]
    # A fresh world has no registration dated before today: the one scenario that needs one.
    assert [r.name for r in results if r.verdict == SKIP] == ["code 9: dated before today"]


@pytest.mark.django_db(transaction=True)
def test_the_kit_reports_a_promise_the_server_does_not_keep(demo_server, tmp_path):
    wrong = dict(demo_server.data)
    wrong["remarks"] = [dict(c) for c in wrong["remarks"][:2]]
    wrong["remarks"][0]["steps"] = [
        dict(wrong["remarks"][0]["steps"][0], expect={"outcome": "registered", "remarks": [2]})
    ]
    demo_server.data = wrong
    results = run(demo_server, groups={"remarks"})
    assert [(r.name, r.verdict) for r in results] == [("remark-01", FAIL), ("remark-02", PASS)]
    assert (results[0].expected, results[0].got) == ("registered FAILED [2]", "registered FAILED [1]")


@pytest.mark.django_db(transaction=True)
def test_the_command_prints_a_table_writes_junit_and_fails_on_a_failure(demo_server, live_server, tmp_path, settings):
    folder = Path(settings.DEMO_CREDENTIALS_DIR)
    wrong = {
        "clients": [
            dict(demo_server.data, admissionErrors=[], clean=[], remarks=[dict(demo_server.data["remarks"][0])])
        ]
    }
    wrong["clients"][0]["remarks"][0]["steps"] = [
        dict(wrong["clients"][0]["remarks"][0]["steps"][0], expect={"outcome": "refused", "errors": [5]})
    ]
    data = tmp_path / "wrong.json"
    data.write_text(json.dumps(wrong))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "conformance",
            f"--soap-url={live_server.url}/PresenceRegistration/v1",
            f"--rest-url={live_server.url}/REST/presenceRegistration/v1",
            f"--certificate={folder / 'enterprise.cert.pem'}",
            f"--key={folder / 'enterprise.key.pem'}",
            f"--client-id={demo_server.main.rest.client_id}",
            f"--data={data}",
            f"--junit={tmp_path / 'junit.xml'}",
            "--only=remarks,soap-faults",
            stdout=out,
        )
    assert exited.value.code == 1
    table = out.getvalue()
    assert "remarks: remark-01" in table
    assert "refused [5]" in table
    assert "FAIL" in table
    assert "soap-faults: unsigned call" in table
    junit = (tmp_path / "junit.xml").read_text()
    assert '<testcase classname="remarks" name="remark-01"' in junit
    assert "<failure" in junit


def test_the_kit_imports_nothing_of_the_service():
    imported = set()
    for path in KIT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert "conformance" in imported  # the walk did see the kit's own imports
    assert not imported & CORE
