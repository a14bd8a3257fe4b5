"""Get-one and search (spec §5 searchPresences criteria) through the caller's visibility (§8)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history.models import HistoryEvent
from registrations.domain.exceptions import InvalidSearchError
from registrations.models import ClientRole, Registration, Status
from registrations.selectors.registrations import SearchCriteria, SortKey, registration_get, registration_search
from registrations.services.presences import registration_submit_batch, registrations_consulted
from tests.factories import caller_for, make_client, make_declaration, make_niss, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def alice():
    """An employer: sees what it sent and what it employs."""
    return caller_for(make_client(ClientRole.ENTERPRISE))


@pytest.fixture
def bob():
    """Another employer: must never see Alice's registrations."""
    return caller_for(make_client(ClientRole.ENTERPRISE))


@pytest.fixture
def inspection():
    """Inspection: sees everything; every read is recorded."""
    return caller_for(make_client(ClientRole.INSPECTION))


def register(caller, count=1, **fields):
    results = registration_submit_batch(
        items=[presence(caller=caller, **fields) for _ in range(count)], caller=caller, channel="WS"
    )
    return [result.registration for result in results]


def window(today, **criteria):
    return SearchCriteria(periods=[(today, today + timedelta(days=1))], **criteria)


def ids(page):
    return [registration.pk for registration in page.registrations]


def test_an_employer_gets_its_own_registration_and_not_another_ones(alice, bob):
    [mine] = register(alice)
    [theirs] = register(bob)
    assert registration_get(caller=alice, registration_id=mine.pk).pk == mine.pk
    assert registration_get(caller=alice, registration_id=theirs.pk) is None
    assert registration_get(caller=alice, registration_id=987654321) is None


def test_an_employer_searching_with_another_employers_filters_finds_nothing(alice, bob, today):
    register(bob, count=3)
    page = registration_search(caller=alice, criteria=window(today, enterprise_number=bob.enterprise_number))
    assert page.total == 0
    assert page.registrations == []


def test_a_builder_sees_registrations_on_its_workplace(alice, bob, today):
    declaration = make_declaration(builder=alice.enterprise_number, subcontractors=(bob.enterprise_number,))
    [on_site] = register(bob, workplace_id=declaration.number)
    register(bob)  # elsewhere
    assert ids(registration_search(caller=alice, criteria=window(today))) == [on_site.pk]


def test_a_professional_sees_only_its_mandating_enterprises(alice, bob, today):
    secretariat = caller_for(make_client(ClientRole.PROFESSIONAL, mandates=[alice.enterprise_number]))
    mine = register(alice, count=2)
    register(bob, count=2)
    page = registration_search(caller=secretariat, criteria=window(today))
    assert ids(page) == [registration.pk for registration in mine]


def test_an_employer_searching_its_own_number_finds_what_others_sent_for_it_and_only_that(alice, bob, today):
    """Own-employer searches skip the visibility OR (the criterion implies it): same answer."""
    integrator = caller_for(make_client(ClientRole.ENTERPRISE))
    sent_for_alice = register(integrator, count=2, enterprise_number=alice.enterprise_number)
    own = register(alice)
    register(bob, count=2)
    with CaptureQueriesContext(connection) as queries:
        page = registration_search(caller=alice, criteria=window(today, enterprise_number=alice.enterprise_number))
    assert ids(page) == [registration.pk for registration in [*sent_for_alice, *own]]
    [select] = [q["sql"] for q in queries.captured_queries if 'FROM "registrations_registration"' in q["sql"]]
    assert " OR " not in select


def test_a_professional_searching_an_enterprise_sees_it_only_when_mandated(alice, bob, today):
    secretariat = caller_for(make_client(ClientRole.PROFESSIONAL, mandates=[alice.enterprise_number]))
    mine = register(alice, count=2)
    register(bob, count=2)
    mandated = registration_search(
        caller=secretariat, criteria=window(today, enterprise_number=alice.enterprise_number)
    )
    assert ids(mandated) == [registration.pk for registration in mine]
    other = registration_search(caller=secretariat, criteria=window(today, enterprise_number=bob.enterprise_number))
    assert other.total == 0
    own_number = registration_search(
        caller=secretariat, criteria=window(today, enterprise_number=secretariat.enterprise_number)
    )
    assert own_number.total == 0


def test_inspection_sees_everything_and_its_reads_are_recorded(alice, bob, inspection, today):
    register(alice, count=2)
    register(bob, count=2)
    page = registration_search(caller=inspection, criteria=window(today))
    assert page.total == 4
    registrations_consulted(caller=inspection, registrations=page.registrations, channel="WS")
    consulted = HistoryEvent.objects.filter(event_type="registration.consulted")
    assert sorted(consulted.values_list("registration_id", flat=True)) == sorted(ids(page))
    assert set(consulted.values_list("actor", flat=True)) == {inspection.actor}


def test_an_employers_reads_are_not_recorded(alice, today):
    register(alice)
    page = registration_search(caller=alice, criteria=window(today))
    registrations_consulted(caller=alice, registrations=page.registrations, channel="WS")
    assert not HistoryEvent.objects.filter(event_type="registration.consulted").exists()


def test_search_filters_by_person_workplace_status_and_remark(alice, today):
    niss = make_niss()
    [target] = register(alice, niss=niss)
    others = register(alice, count=3)
    Registration.objects.filter(pk=target.pk).update(status=Status.FAILED, remark_mask=(1 << 0) | (1 << 14))
    assert ids(registration_search(caller=alice, criteria=window(today, niss=niss))) == [target.pk]
    assert ids(registration_search(caller=alice, criteria=window(today, workplace_id=others[1].workplace_id))) == [
        others[1].pk
    ]
    assert ids(registration_search(caller=alice, criteria=window(today, statuses=[Status.FAILED]))) == [target.pk]
    assert ids(registration_search(caller=alice, criteria=window(today, remarks=[15]))) == [target.pk]
    assert ids(registration_search(caller=alice, criteria=window(today, remarks=[4]))) == []


def test_search_accepts_a_company_id_without_its_leading_zero(alice, today):
    register(alice, count=2)
    page = registration_search(caller=alice, criteria=window(today, enterprise_number=int(alice.enterprise_number)))
    assert page.total == 2


def test_paging_and_sorting_are_stable_and_count_the_whole_match(alice, today):
    registrations = register(alice, count=7)
    expected = sorted(registration.pk for registration in registrations)
    first = registration_search(caller=alice, criteria=window(today), first_row=0, fetch_size=3)
    second = registration_search(caller=alice, criteria=window(today), first_row=3, fetch_size=3)
    last = registration_search(caller=alice, criteria=window(today), first_row=6, fetch_size=3)
    assert (first.total, second.total, last.total) == (7, 7, 7)
    assert ids(first) + ids(second) + ids(last) == expected
    beyond = registration_search(caller=alice, criteria=window(today), first_row=20, fetch_size=3)
    assert (beyond.total, beyond.registrations) == (7, [])
    descending = registration_search(caller=alice, criteria=window(today), sort=SortKey.ID, descending=True)
    assert ids(descending) == expected[::-1]
    by_workplace = registration_search(caller=alice, criteria=window(today), sort=SortKey.PLACE_OF_WORK)
    workplaces = [registration.workplace_id for registration in by_workplace.registrations]
    assert workplaces == sorted(workplaces)


def test_only_the_given_periods_are_searched(alice, today):
    [tomorrow] = register(alice, registration_date=today + timedelta(days=1))
    register(alice)
    page = registration_search(caller=alice, criteria=SearchCriteria(periods=[(tomorrow.registration_date,) * 2]))
    assert ids(page) == [tomorrow.pk]


@pytest.mark.parametrize(
    ("criteria", "paging", "field"),
    [
        ({"periods": []}, {}, "RegistrationPeriodList"),
        ({"periods": [("today", "today")] * 32}, {}, "RegistrationPeriodList"),
        ({"periods": [("tomorrow", "today")]}, {}, "RegistrationPeriod"),
        ({"niss": "12345678901"}, {}, "INSS"),
        ({"enterprise_number": "2448181966"}, {}, "CompanyID"),
        ({}, {"fetch_size": 501}, "FetchSize"),
        ({}, {"fetch_size": 10**9}, "FetchSize"),
        ({}, {"fetch_size": 0}, "FetchSize"),
        ({}, {"first_row": -1}, "FirstRow"),
    ],
)
def test_bad_search_requests_are_refused_with_the_field_named(alice, today, criteria, paging, field):
    days = {"today": today, "tomorrow": today + timedelta(days=1)}
    if "periods" in criteria:
        criteria = {**criteria, "periods": [(days[start], days[end]) for start, end in criteria["periods"]]}
    else:
        criteria = {"periods": [(today, today)], **criteria}
    with pytest.raises(InvalidSearchError) as refused:
        registration_search(caller=alice, criteria=SearchCriteria(**criteria), **paging)
    assert refused.value.field == field
