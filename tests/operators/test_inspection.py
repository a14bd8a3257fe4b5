"""Inspection: the workplace snapshot (JSON, CSV, PDF) and worker transparency (REST, admin).

Every registration a snapshot shows gets a `registration.consulted` event; transparency
reads those events back for one person, whose NISS never travels in a URL.
"""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone
from pypdf import PdfReader

from history.events import EventType
from history.models import HistoryEvent
from registrations.models import ClientRole, Person, Sector, Status
from rest_gateway.auth import SCOPE_ENTERPRISE, SCOPE_INSPECTION, access_token_issue
from tests.factories import make_client, make_workplace_id
from tests.operators.conftest import logged_in, make_registration

pytestmark = pytest.mark.django_db
API = "/REST/presenceRegistration/v1"


@pytest.fixture
def inspector():
    return make_client(role=ClientRole.INSPECTION)


def bearer(client, scope) -> dict[str, str]:
    token, _ = access_token_issue(client=client, scopes=[scope])
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def site():
    """One workplace today: a valid presence, a failed one, a cleaner on site, one who left."""
    workplace = make_workplace_id()
    today = timezone.localdate()
    now = timezone.now()
    valid = make_registration(workplace_id=workplace)
    Person.objects.create(niss=valid.niss, given_name="Jan", family_name="Janssens")
    failed = make_registration(workplace_id=workplace, status=Status.FAILED, remark_mask=0b1)
    make_registration(workplace_id=workplace, status=Status.CANCELLED)
    make_registration(workplace_id=workplace, registration_date=today - timedelta(days=1))
    on_site = make_registration(
        workplace_id=workplace, sector=Sector.CLEANING, event_type="IN", event_at=now - timedelta(hours=2)
    )
    left_in = make_registration(
        workplace_id=workplace, sector=Sector.CLEANING, event_type="IN", event_at=now - timedelta(hours=3)
    )
    left_out = make_registration(
        workplace_id=workplace,
        sector=Sector.CLEANING,
        event_type="OUT",
        event_at=now - timedelta(hours=1),
        niss=left_in.niss,
        enterprise_number=left_in.enterprise_number,  # an OUT closes only its own employer's IN
    )
    return {"workplace": workplace, "shown": [valid, failed, on_site], "not_shown": [left_in, left_out]}


def snapshot(http, inspector, site, suffix=""):
    return http.get(
        f"{API}/inspection/snapshot{suffix}", {"workplaceId": site["workplace"]}, **bearer(inspector, SCOPE_INSPECTION)
    )


def consulted(registration):
    return list(HistoryEvent.objects.filter(registration=registration, event_type=EventType.CONSULTED))


def test_the_snapshot_shows_who_is_registered_or_on_site_and_logs_each_read(client, inspector, site):
    response = snapshot(client, inspector, site)
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [r.pk for r in site["shown"]]
    first, second, cleaner = body["items"]
    assert (first["worker"]["familyName"], first["validity"], first["remarks"]) == ("Janssens", "valid", [])
    assert (second["validity"], second["remarks"]) == ("invalid", [1])
    assert cleaner["onSiteSince"] is not None
    for registration in site["shown"]:
        [event] = consulted(registration)
        assert (event.actor, event.channel) == (f"client:{inspector.pk}", "REST")
    for registration in site["not_shown"]:
        assert consulted(registration) == []


def test_the_snapshot_as_csv_has_one_line_per_person(client, inspector, site):
    response = snapshot(client, inspector, site, ".csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [int(row["registration_id"]) for row in rows] == [r.pk for r in site["shown"]]
    assert rows[0]["family_name"] == "Janssens"
    assert rows[1]["remarks"] == "1"
    assert rows[2]["sector"] == "cleaning"
    assert rows[2]["on_site_since"]
    assert all(len(consulted(r)) == 1 for r in site["shown"])


def test_the_snapshot_as_pdf_reads_back(client, inspector, site):
    response = snapshot(client, inspector, site, ".pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert site["workplace"] in text
    assert "Janssens" in text
    assert str(site["shown"][2].pk) in text
    assert all(len(consulted(r)) == 1 for r in site["shown"])


def test_only_inspection_may_take_a_snapshot(client, site):
    employer = make_client()
    response = client.get(
        f"{API}/inspection/snapshot", {"workplaceId": site["workplace"]}, **bearer(employer, SCOPE_ENTERPRISE)
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert all(consulted(r) == [] for r in site["shown"])


def test_a_bad_workplace_is_a_bad_request(client, inspector):
    response = client.get(
        f"{API}/inspection/snapshot.pdf", {"workplaceId": "nope"}, **bearer(inspector, SCOPE_INSPECTION)
    )
    assert response.status_code == 400
    assert response.json()["issues"][0]["name"] == "workplaceId"


def test_a_worker_sees_who_consulted_their_registrations(client, inspector, site):
    snapshot(client, inspector, site)
    niss = site["shown"][0].niss
    response = client.post(
        f"{API}/inspection/workerAccesses",
        json.dumps({"ssin": niss}),
        content_type="application/json",
        **bearer(inspector, SCOPE_INSPECTION),
    )
    assert response.status_code == 200
    [access] = response.json()["items"]
    assert access["consultedBy"] == inspector.name
    assert access["registrationId"] == site["shown"][0].pk
    assert access["channel"] == "REST"


def test_the_access_list_takes_the_niss_only_in_the_body(client, inspector):
    headers = bearer(inspector, SCOPE_INSPECTION)
    assert client.get(f"{API}/inspection/workerAccesses", **headers).status_code == 405
    bad = client.post(
        f"{API}/inspection/workerAccesses", json.dumps({"ssin": "12345"}), content_type="application/json", **headers
    )
    assert bad.status_code == 400


def test_an_operator_sees_the_access_list_in_the_admin(client, inspector, site, corrector, viewer):
    snapshot(client, inspector, site)
    niss = site["shown"][2].niss
    page = logged_in(corrector).post("/admin/worker-access/", {"niss": niss})
    assert page.status_code == 200
    assert inspector.name in page.content.decode()
    assert logged_in(viewer).post("/admin/worker-access/", {"niss": niss}).status_code == 403
    assert DjangoClient().get("/admin/worker-access/").status_code == 302  # to the login page


def test_looking_at_an_access_list_is_logged_without_the_niss(client, inspector, site, corrector, caplog):
    niss = site["shown"][0].niss
    caplog.set_level("INFO")
    logged_in(corrector).post("/admin/worker-access/", {"niss": niss})
    client.post(
        f"{API}/inspection/workerAccesses",
        json.dumps({"ssin": niss}),
        content_type="application/json",
        **bearer(inspector, SCOPE_INSPECTION),
    )
    lines = [record.getMessage() for record in caplog.records if "worker access list" in record.getMessage()]
    assert lines == [
        "worker access list shown to operator:cor (0 rows)",
        f"worker access list shown to client:{inspector.pk} (0 rows)",
    ]
    assert niss not in caplog.text


def test_a_past_days_snapshot_shows_the_ins_left_open_that_day(client, inspector):
    workplace = make_workplace_id()
    three_days_ago = timezone.now() - timedelta(days=3)
    forgotten = make_registration(
        workplace_id=workplace,
        sector=Sector.CLEANING,
        event_type="IN",
        event_at=three_days_ago,
        registration_date=timezone.localdate(three_days_ago),
    )
    response = client.get(
        f"{API}/inspection/snapshot",
        {"workplaceId": workplace, "date": timezone.localdate(three_days_ago).isoformat()},
        **bearer(inspector, SCOPE_INSPECTION),
    )
    assert [item["id"] for item in response.json()["items"]] == [forgotten.pk]
    today = client.get(f"{API}/inspection/snapshot", {"workplaceId": workplace}, **bearer(inspector, SCOPE_INSPECTION))
    assert today.json()["items"] == []
