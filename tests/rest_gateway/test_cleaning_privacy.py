"""What one enterprise learns about another's worker through the cleaning API (spec §8,
docs/adr/0011): nothing from the IN/OUT state, and a worker's name only when its employer
has a relation with the person on the date."""

import logging
from datetime import timedelta

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from registrations.models import ClientRole, DimonaPeriod, LimosaDeclaration, Person
from tests.factories import make_enterprise_number, make_niss, make_workplace_id
from tests.rest_gateway.conftest import api_for, event, minutes_ago, rest_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(key):
    """A second enterprise client, employing the same worker on the same place of work."""
    return rest_client(key)


@pytest.fixture
def other_api(other, key):
    return api_for(DjangoClient(), other, key)


def answer(response):
    return response.json()["items"][0]


def test_another_employers_check_in_changes_nothing_in_the_answers(api, employer, other_api, other):
    place = {"ssin": make_niss(), "contractualRelationshipReference": make_workplace_id()}
    alone = {"ssin": make_niss(), "contractualRelationshipReference": make_workplace_id()}
    assert "createdPresenceRegistration" in answer(
        other_api.register(event(kind="in", enterprise_number=other.enterprise_number, **place))
    )

    def sequence(where):
        mine = {"enterprise_number": employer.enterprise_number, **where}
        out = answer(api.register(event(kind="out", at=minutes_ago(4), **mine)))
        first_in = answer(api.register(event(kind="in", at=minutes_ago(3), **mine)))
        second_in = answer(api.register(event(kind="in", at=minutes_ago(2), **mine)))
        return out, "createdPresenceRegistration" in first_in, second_in

    there, here = sequence(place), sequence(alone)
    assert there[0] == here[0] == {"notCreatedPresenceRegistration": here[0]["notCreatedPresenceRegistration"]}
    assert there[1] is here[1] is True
    assert there[2] == here[2]
    assert [error["errorCode"] for error in there[2]["notCreatedPresenceRegistration"]["errorList"]] == [15]
    # The other employer's IN is still open: its OUT is accepted, a new IN refused.
    assert "createdPresenceRegistration" in answer(
        other_api.register(event(kind="out", enterprise_number=other.enterprise_number, **place))
    )


def codes(item):
    return [error["errorCode"] for error in item["notCreatedPresenceRegistration"]["errorList"]]


def test_a_client_naming_the_employer_never_blocks_nor_closes_the_employers_state(api, employer, other_api):
    place = {"ssin": make_niss(), "contractualRelationshipReference": make_workplace_id()}
    theirs = {"enterprise_number": employer.enterprise_number, **place}
    assert "createdPresenceRegistration" in answer(other_api.register(event(kind="in", at=minutes_ago(4), **theirs)))
    assert "createdPresenceRegistration" in answer(api.register(event(kind="in", at=minutes_ago(3), **theirs)))
    assert "createdPresenceRegistration" in answer(other_api.register(event(kind="out", at=minutes_ago(2), **theirs)))
    # The stranger's OUT closed only its own IN: the employer's IN is still open.
    assert codes(answer(api.register(event(kind="in", at=minutes_ago(1), **theirs)))) == [15]
    assert "createdPresenceRegistration" in answer(api.register(event(kind="out", **theirs)))


def test_a_client_naming_the_employer_learns_nothing_of_the_employers_state(api, employer, other_api):
    def probe(where):
        theirs = {"enterprise_number": employer.enterprise_number, **where}
        out = answer(other_api.register(event(kind="out", at=minutes_ago(2), **theirs)))
        first_in = answer(other_api.register(event(kind="in", at=minutes_ago(1), **theirs)))
        return codes(out), "createdPresenceRegistration" in first_in

    used = {"ssin": make_niss(), "contractualRelationshipReference": make_workplace_id()}
    unused = {"ssin": make_niss(), "contractualRelationshipReference": make_workplace_id()}
    own = {"enterprise_number": employer.enterprise_number, **used}
    assert "createdPresenceRegistration" in answer(api.register(event(kind="in", at=minutes_ago(3), **own)))
    assert probe(used) == probe(unused) == ([14], True)


def name_of(api, employer, niss, **extra):
    response = api.register(event(ssin=niss, enterprise_number=employer, **extra))
    created = answer(response)["createdPresenceRegistration"]
    shown = api.get(f"/presenceRegistrations/{created['id']}").json()
    today = timezone.localdate().isoformat()
    found = api.post(
        "/presenceRegistrations/search",
        {"criteria": {"registrationDate": {"startDate": today, "endDate": today}, "ssin": niss}},
    ).json()["items"]
    assert created["worker"] == shown["worker"] == found[0]["worker"]
    return created["worker"]


@pytest.fixture
def ann():
    niss = make_niss()
    Person.objects.create(niss=niss, given_name="Ann", family_name="Peeters")
    return niss


def test_no_name_for_a_person_the_employer_has_no_relation_with(api, employer, ann):
    assert name_of(api, employer.enterprise_number, ann) is None


def test_no_name_when_only_another_employer_employs_the_person(api, employer, ann):
    DimonaPeriod.objects.create(
        employer=make_enterprise_number(), niss=ann, start=timezone.localdate(), worker_type="employee"
    )
    assert name_of(api, employer.enterprise_number, ann) is None


def test_no_name_when_the_employment_ended_before_the_date(api, employer, ann):
    today = timezone.localdate()
    DimonaPeriod.objects.create(
        employer=employer.enterprise_number,
        niss=ann,
        start=today - timedelta(days=30),
        end=today - timedelta(days=1),
        worker_type="employee",
    )
    assert name_of(api, employer.enterprise_number, ann) is None


def test_the_name_for_the_employers_own_employee(api, employer, ann):
    DimonaPeriod.objects.create(
        employer=employer.enterprise_number, niss=ann, start=timezone.localdate(), worker_type="employee"
    )
    assert name_of(api, employer.enterprise_number, ann) == {"givenName": "Ann", "familyName": "Peeters"}


def test_the_name_for_an_interim_worker_at_the_user_company(api, employer, ann):
    DimonaPeriod.objects.create(
        employer=make_enterprise_number(),
        niss=ann,
        start=timezone.localdate(),
        worker_type="interim",
        user_company=employer.enterprise_number,
    )
    assert name_of(api, employer.enterprise_number, ann) == {"givenName": "Ann", "familyName": "Peeters"}


def test_no_name_for_a_posted_worker_of_a_foreign_employer_but_inspection_reads_it(api, ann, key):
    # A foreign employer has no clients of its own: whoever names it cannot show a link to it.
    vat = "NL123456789B01"
    LimosaDeclaration.objects.create(
        limosa_id="L-77", niss=ann, foreign_employer_vat=vat, start=timezone.localdate() - timedelta(days=1)
    )
    created = answer(api.register(event(ssin=ann, employer={"foreignVatNumber": vat})))["createdPresenceRegistration"]
    assert created["worker"] is None
    inspection = api_for(DjangoClient(), rest_client(key, ClientRole.INSPECTION), key)
    shown = inspection.get(f"/presenceRegistrations/{created['id']}").json()
    assert shown["worker"] == {"givenName": "Ann", "familyName": "Peeters"}


def test_no_name_for_a_client_naming_an_employer_that_employs_the_person(api, employer, other_api, ann):
    DimonaPeriod.objects.create(
        employer=employer.enterprise_number, niss=ann, start=timezone.localdate(), worker_type="employee"
    )
    assert name_of(other_api, employer.enterprise_number, ann) is None
    assert name_of(api, employer.enterprise_number, ann) == {"givenName": "Ann", "familyName": "Peeters"}


def test_the_name_for_a_professional_mandated_by_the_employer(api, employer, ann, key):
    DimonaPeriod.objects.create(
        employer=employer.enterprise_number, niss=ann, start=timezone.localdate(), worker_type="employee"
    )
    created = answer(api.register(event(ssin=ann, enterprise_number=employer.enterprise_number)))
    mandated = rest_client(key, ClientRole.PROFESSIONAL, mandates=(employer.enterprise_number,))
    shown = api_for(DjangoClient(), mandated, key).get(
        f"/presenceRegistrations/{created['createdPresenceRegistration']['id']}"
    )
    assert shown.json()["worker"] == {"givenName": "Ann", "familyName": "Peeters"}


def test_each_name_look_up_is_logged_without_the_niss(api, employer, ann, caplog):
    caplog.set_level(logging.INFO, logger="registrations.worker_names")
    response = api.register(event(ssin=ann, enterprise_number=employer.enterprise_number))
    registration_id = answer(response)["createdPresenceRegistration"]["id"]
    [line] = [record.getMessage() for record in caplog.records if record.name == "registrations.worker_names"]
    assert f"client:{employer.pk}" in line
    assert f"withheld ['{registration_id}:niss#" in line
    assert ann not in line


def test_inspection_reads_every_workers_name(api, employer, ann, key):
    response = api.register(event(ssin=ann, enterprise_number=employer.enterprise_number))
    created = answer(response)["createdPresenceRegistration"]
    assert created["worker"] is None  # the employer has no Dimona with her
    inspection = api_for(DjangoClient(), rest_client(key, ClientRole.INSPECTION), key)
    shown = inspection.get(f"/presenceRegistrations/{created['id']}").json()
    assert shown["worker"] == {"givenName": "Ann", "familyName": "Peeters"}
