"""The cleaning IN/OUT state is per employer (spec §4.2, §8; docs/adr/0011).

Two employers (each with its own enterprise client) register the same worker on the same
place of work: each one's sequence is independent, and each one's answers are exactly those
it would get if the other's events did not exist.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from registrations.domain.exceptions import ItemErrorCode
from registrations.models import Channel, ClientRole, Registration, Status
from registrations.selectors.performances import pair_events
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.presences import CancelInput, registration_cancel_batch
from registrations.validation.run import registration_validate_batch
from tests.factories import caller_for, make_client, make_niss, make_workplace_id

pytestmark = pytest.mark.django_db

E = ItemErrorCode
SAME_DUPLICATE = 14  # remark 14: SAME DECLARATION HAS ALREADY BEEN REGISTERED


@pytest.fixture
def first():
    """An enterprise client registering for its own enterprise."""
    return caller_for(make_client(ClientRole.ENTERPRISE))


@pytest.fixture
def second():
    """Another enterprise, employing the same worker on the same place of work."""
    return caller_for(make_client(ClientRole.ENTERPRISE))


@pytest.fixture
def place():
    return {"niss": make_niss(), "workplace_id": make_workplace_id()}


def event(caller, place, kind, minutes_ago=0.0, employer=None):
    return CleaningInput(
        event_type=kind,
        event_at=timezone.now() - timedelta(minutes=minutes_ago),
        enterprise_number=employer or caller.enterprise_number,
        latitude=50.8465,
        longitude=4.3517,
        **place,
    )


def codes(caller, *items):
    """The error codes of each item (empty: stored)."""
    results = registration_submit_cleaning_batch(items=list(items), caller=caller)
    return [[int(error.code) for error in result.errors] for result in results]


def test_another_employers_open_in_does_not_block_an_in(first, second, place):
    assert codes(first, event(first, place, "IN", 3)) == [[]]
    assert codes(second, event(second, place, "IN", 2)) == [[]]


def test_an_out_never_closes_another_employers_in(first, second, place):
    codes(first, event(first, place, "IN", 5))
    assert codes(second, event(second, place, "OUT", 4)) == [[E.CHECK_OUT_WITHOUT_CHECK_IN]]
    # The first employer's IN is still open: a second IN is refused, its OUT is accepted.
    assert codes(first, event(first, place, "IN", 3)) == [[E.CHECK_IN_ALREADY_OPEN]]
    assert codes(first, event(first, place, "OUT", 2)) == [[]]


def test_another_employers_closed_period_does_not_close_this_one(first, second, place):
    codes(first, event(first, place, "IN", 6))
    codes(second, event(second, place, "IN", 5), event(second, place, "OUT", 4))
    assert codes(first, event(first, place, "IN", 3)) == [[E.CHECK_IN_ALREADY_OPEN]]


def test_another_employers_later_event_does_not_make_an_event_late(first, second, place):
    codes(first, event(first, place, "IN", 1))
    assert codes(second, event(second, place, "IN", 5)) == [[]]


def test_the_errors_are_those_the_employer_gets_when_it_is_alone(first, second, place):
    alone = {"niss": make_niss(), "workplace_id": make_workplace_id()}
    sequence = [("OUT", 9), ("IN", 8), ("IN", 7), ("OUT", 6), ("OUT", 5)]
    expected = [codes(second, event(second, alone, kind, minutes)) for kind, minutes in sequence]
    assert codes(first, event(first, place, "IN", 9.5)) == [[]]  # the first employer's worker is on site
    assert [codes(second, event(second, place, kind, minutes)) for kind, minutes in sequence] == expected
    assert expected == [[[E.CHECK_OUT_WITHOUT_CHECK_IN]], [[]], [[E.CHECK_IN_ALREADY_OPEN]], [[]], [[14]]]


def test_a_client_registering_for_another_employer_neither_sees_nor_closes_its_events(first, place):
    """docs/adr/0008: any enterprise client may name another employer; it still counts only
    the events it may see, so it can neither probe nor close that employer's state."""
    on_behalf = caller_for(make_client(ClientRole.ENTERPRISE))
    codes(first, event(first, place, "IN", 5))
    employer = first.enterprise_number
    assert codes(on_behalf, event(on_behalf, place, "OUT", 4, employer=employer)) == [[E.CHECK_OUT_WITHOUT_CHECK_IN]]
    assert codes(on_behalf, event(on_behalf, place, "IN", 3, employer=employer)) == [[]]
    assert codes(first, event(first, place, "OUT", 1)) == [[]]  # the employer sees and closes both


def test_one_batch_carries_the_sequences_of_two_employers_independently(first, second, place):
    on_behalf = caller_for(make_client(ClientRole.ENTERPRISE))
    batch = [
        event(on_behalf, place, "IN", 4, employer=first.enterprise_number),
        event(on_behalf, place, "IN", 3, employer=second.enterprise_number),
        event(on_behalf, place, "OUT", 2, employer=first.enterprise_number),
        event(on_behalf, place, "IN", 1, employer=second.enterprise_number),
    ]
    assert codes(on_behalf, *batch) == [[], [], [], [E.CHECK_IN_ALREADY_OPEN]]


def test_the_same_minute_for_two_employers_is_two_events_not_a_resend(place):
    on_behalf = caller_for(make_client(ClientRole.ENTERPRISE))
    employers = [make_client().enterprise_number, make_client().enterprise_number]
    results = registration_submit_cleaning_batch(
        items=[event(on_behalf, place, "IN", employer=employer) for employer in employers], caller=on_behalf
    )
    stored = [result.registration for result in results]
    assert [result.replayed for result in results] == [False, False]
    assert sorted(registration.enterprise_number for registration in stored if registration) == sorted(employers)


def test_another_employers_event_of_the_same_minute_is_no_duplicate(first, second, place):
    results = [
        registration_submit_cleaning_batch(items=[event(caller, place, "IN")], caller=caller)[0]
        for caller in (first, second)
    ]
    ids = [result.registration.pk for result in results if result.registration]
    registration_validate_batch(registration_ids=ids)
    assert [SAME_DUPLICATE in registration.remarks for registration in Registration.objects.filter(id__in=ids)] == [
        False,
        False,
    ]


def test_the_same_employers_event_of_the_same_minute_is_a_duplicate(first, place):
    other_client = caller_for(make_client(ClientRole.ENTERPRISE, enterprise_number=first.enterprise_number))
    elsewhere = {**place, "workplace_id": make_workplace_id()}
    registration_submit_cleaning_batch(items=[event(first, place, "IN")], caller=first)
    registration_submit_cleaning_batch(items=[event(other_client, elsewhere, "IN")], caller=other_client)
    registration_validate_batch(registration_ids=list(Registration.objects.values_list("id", flat=True)))
    assert [SAME_DUPLICATE in r.remarks for r in Registration.objects.order_by("id")] == [False, True]


def test_a_client_naming_the_employer_and_the_employer_make_no_duplicates_of_each_other(first, second, place):
    for caller in (second, first):  # `second` names `first` as employer (docs/adr/0008)
        registration_submit_cleaning_batch(
            items=[event(caller, place, "IN", employer=first.enterprise_number)], caller=caller
        )
    registration_validate_batch(registration_ids=list(Registration.objects.values_list("id", flat=True)))
    assert [SAME_DUPLICATE in r.remarks for r in Registration.objects.order_by("id")] == [False, False]


def test_performances_pair_each_employers_events_on_their_own(first, second, place):
    codes(first, event(first, place, "IN", 6))
    codes(second, event(second, place, "IN", 5), event(second, place, "OUT", 4))
    performances = pair_events(Registration.objects.all())
    by_employer = {performance.enterprise_number: performance for performance in performances}
    assert by_employer[first.enterprise_number].is_open
    assert not by_employer[second.enterprise_number].is_open
    assert len(performances) == 2


def test_cancelling_its_in_never_touches_another_employers_state(first, second, place):
    [mine] = registration_submit_cleaning_batch(items=[event(first, place, "IN", 5)], caller=first)
    codes(second, event(second, place, "IN", 4))
    assert mine.registration is not None
    registration_cancel_batch(
        items=[CancelInput(registration_id=mine.registration.pk, reason="PLANNING")], caller=first, channel=Channel.REST
    )
    assert Registration.objects.get(pk=mine.registration.pk).status == Status.CANCELLED
    assert codes(second, event(second, place, "IN", 3)) == [[E.CHECK_IN_ALREADY_OPEN]]
    assert codes(first, event(first, place, "IN", 2)) == [[]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_check_ins_for_two_employers_are_both_stored():
    place = {"niss": make_niss(), "workplace_id": make_workplace_id()}
    # Three clients of each of two employers send the same IN at once.
    employers = [make_client().enterprise_number for _ in range(2)]
    callers = [
        caller_for(make_client(ClientRole.ENTERPRISE, enterprise_number=number))
        for number in employers
        for _ in range(3)
    ]
    barrier = threading.Barrier(len(callers))
    same_in = {number: event(callers[0], place, "IN", 1, employer=number) for number in employers}
    outcomes: list[tuple[str, list[list[int]]]] = []

    def check_in(caller):
        try:
            barrier.wait()
            outcomes.append((caller.enterprise_number, codes(caller, same_in[caller.enterprise_number])))
        finally:
            connection.close()

    threads = [threading.Thread(target=check_in, args=(caller,)) for caller in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number in employers:
        assert sorted(result for employer, result in outcomes if employer == number) == [
            [[]],
            [[E.CHECK_IN_ALREADY_OPEN]],
            [[E.CHECK_IN_ALREADY_OPEN]],
        ]
    assert Registration.objects.filter(niss=place["niss"]).count() == 2
