"""`manage.py demo_sheet`: found in the seeded database, shown in docs/sandbox.md.

That every combination gives its promised outcome through the gateways is proved over HTTP
in tests/conformance/test_kit.py."""

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from registrations.domain.authorisation import Caller
from registrations.models import Channel, Client, DeclarationOfWorks, DeclarationParty, DimonaPeriod, Sector
from registrations.services.presences import PresenceInput, registration_submit_batch

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"
NOT_PRODUCTION = "--i-know-this-is-not-production"


@pytest.fixture
def seeded(tmp_path, settings, django_capture_on_commit_callbacks):
    settings.DEMO_CREDENTIALS_DIR = tmp_path / "demo"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", NOT_PRODUCTION, stdout=io.StringIO())


def sheet(*args):
    out = io.StringIO()
    call_command("demo_sheet", *args, stdout=out)
    return out.getvalue()


def test_docs_show_the_sheet_of_the_seeded_demo(seeded):
    shown = re.search(r"<!-- demo_sheet -->\n```text\n(.*?)```\n<!-- /demo_sheet -->", DOC.read_text(), re.S)
    assert shown, "docs/sandbox.md lost its demo_sheet block"
    assert shown.group(1) == sheet()


def test_the_client_s_own_enterprise_employs_and_works_in_each_sector(seeded):
    enterprise = Client.objects.get(role="enterprise").enterprise_number
    assert DimonaPeriod.objects.filter(employer=enterprise, end=None).count() >= 10
    for sector in (Sector.CONSTRUCTION, Sector.MEAT, Sector.CLEANING):
        for role in DeclarationParty.Role:
            sites = DeclarationOfWorks.objects.filter(
                sector=sector, parties__enterprise_number=enterprise, parties__role=role
            )
            assert sites.exists(), (sector, role)


def test_the_sheet_lists_every_remark_and_admission_error(seeded):
    (enterprise, inspection) = json.loads(sheet("--json"))["clients"]
    assert [c["key"] for c in enterprise["remarks"]] == [f"remark-{n:02d}" for n in range(1, 19)]
    assert enterprise["remarksNotAvailable"] == []
    errors = [c["key"] for c in enterprise["admissionErrors"]]
    assert errors == [f"error-soap-{n}" for n in range(2, 7)] + [
        f"error-rest-{n}" for n in (2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19)
    ]
    assert {c["code"] for c in enterprise["cancellations"]} == {1, 7}
    assert enterprise["cleaningSite"]["nearbyAddress"]["distanceMeters"] <= enterprise["cleaningSite"]["radiusMeters"]
    assert (inspection["role"], inspection["mayRegister"], inspection["clean"]) == ("inspection", False, [])


def test_a_person_another_sender_registered_is_no_longer_offered_as_clean(seeded):
    before = json.loads(sheet("--json"))["clients"][0]["clean"][0]["steps"][0]["item"]
    registration_submit_batch(
        items=[
            PresenceInput(
                workplace_id=before["WorkPlaceId"], niss=before["INSS"], enterprise_number=before["CompanyID"]
            )
        ],
        caller=Caller.for_operator("someone"),
        channel=Channel.ADMIN,
    )
    clean = json.loads(sheet("--json"))["clients"][0]["clean"]
    offered = {step["item"].get("INSS") or step["item"].get("ssin") for c in clean for step in c["steps"]}
    assert before["INSS"] not in offered


def test_without_demo_clients_the_sheet_says_to_seed_first(tmp_path, settings):
    settings.DEMO_CREDENTIALS_DIR = tmp_path / "nothing-here"
    assert "seed_demo" in sheet()
    assert json.loads(sheet("--json")) == {"format": 1, "clients": []}
