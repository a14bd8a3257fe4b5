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


def test_the_name_for_a_posted_worker_of_a_foreign_employer(api, ann):
    vat = "NL123456789B01"
    LimosaDeclaration.objects.create(
        limosa_id="L-77", niss=ann, foreign_employer_vat=vat, start=timezone.localdate() - timedelta(days=1)
    )
    response = api.register(event(ssin=ann, employer={"foreignVatNumber": vat}))
    assert answer(response)["createdPresenceRegistration"]["worker"] == {"givenName": "Ann", "familyName": "Peeters"}
    other_vat = api.register(event(ssin=ann, employer={"foreignVatNumber": "FR12345678901"}))
    assert answer(other_vat)["createdPresenceRegistration"]["worker"] is None


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
