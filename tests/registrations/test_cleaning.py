"""Cleaning admission and the IN/OUT state machine (spec §4.2; bad inputs 15-21, 26, 27)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from history.models import HistoryEvent
from registrations.domain.exceptions import BatchSizeError, ItemErrorCode, NotAuthorisedError
from registrations.models import ClientRole, Registration, Sector, Status
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.presences import CancelInput, registration_cancel_batch
from tests.factories import caller_for, make_client, make_enterprise_number, make_niss, make_workplace_id

pytestmark = pytest.mark.django_db

E = ItemErrorCode
# The IN/OUT state is per employer: the events of one test share theirs unless they say otherwise.
EMPLOYER_NUMBER = make_enterprise_number()


@pytest.fixture
def employer():
    return caller_for(make_client(ClientRole.ENTERPRISE))


def cleaning(*, minutes_ago: float = 0, kind: str = "IN", niss=None, workplace=None, **fields) -> CleaningInput:
    values: dict[str, object] = {
        "event_type": kind,
        "event_at": timezone.now() - timedelta(minutes=minutes_ago),
        "niss": niss or make_niss(),
        "workplace_id": workplace or make_workplace_id(),
        "enterprise_number": EMPLOYER_NUMBER,
        "latitude": 50.8465,
        "longitude": 4.3517,
    }
    values.update(fields)
    return CleaningInput(**values)  # type: ignore[arg-type]


def submit(employer, *items):
    return registration_submit_cleaning_batch(items=list(items), caller=employer)


def codes(result):
    return [int(error.code) for error in result.errors]


def test_an_in_is_stored_as_a_cleaning_event_with_its_history(employer):
    [result] = submit(employer, cleaning(kind="in", submitted={"type": "in"}))
    stored = Registration.objects.get(pk=result.registration.pk)
    assert (stored.sector, stored.channel, stored.event_type) == (Sector.CLEANING, "REST", "IN")
    assert stored.status == Status.REGISTERED
    assert stored.submitted == {"type": "in"}
    assert stored.registration_date == timezone.localdate(stored.event_at)
    assert list(HistoryEvent.objects.filter(registration=stored).values_list("event_type", flat=True)) == [
        "registration.created"
    ]


def test_in_then_out_in_one_batch_are_both_stored_in_time_order(employer):
    niss, workplace = make_niss(), make_workplace_id()
    out = cleaning(kind="OUT", minutes_ago=1, niss=niss, workplace=workplace)
    in_ = cleaning(kind="IN", minutes_ago=5, niss=niss, workplace=workplace)
    results = submit(employer, out, in_)  # the OUT comes first in the request
    assert [codes(r) for r in results] == [[], []]
    assert Registration.objects.count() == 2


def test_an_out_without_an_open_in_is_refused_and_nothing_is_stored(employer):
    [result] = submit(employer, cleaning(kind="OUT"))
    assert codes(result) == [E.CHECK_OUT_WITHOUT_CHECK_IN]
    assert "OUT without an open IN" in result.errors[0].description
    assert not Registration.objects.exists()


def test_a_second_in_while_one_is_open_is_refused(employer):
    niss, workplace = make_niss(), make_workplace_id()
    submit(employer, cleaning(kind="IN", minutes_ago=3, niss=niss, workplace=workplace))
    [result] = submit(employer, cleaning(kind="IN", minutes_ago=1, niss=niss, workplace=workplace))
    assert codes(result) == [E.CHECK_IN_ALREADY_OPEN]
    assert Registration.objects.count() == 1


def test_the_state_is_per_place_of_work(employer):
    niss = make_niss()
    submit(employer, cleaning(kind="IN", minutes_ago=3, niss=niss))
    [other_place] = submit(employer, cleaning(kind="IN", minutes_ago=1, niss=niss))
    assert codes(other_place) == []


def test_an_out_earlier_than_its_in_is_refused(employer):
    niss, workplace = make_niss(), make_workplace_id()
    submit(employer, cleaning(kind="IN", minutes_ago=2, niss=niss, workplace=workplace))
    [result] = submit(employer, cleaning(kind="OUT", minutes_ago=5, niss=niss, workplace=workplace))
    assert codes(result) == [E.EVENT_BEFORE_LAST_EVENT]


def test_a_break_is_out_then_in_and_a_second_out_needs_a_new_in(employer):
    niss, workplace = make_niss(), make_workplace_id()
    events = [("IN", 9), ("OUT", 7), ("IN", 5), ("OUT", 3)]
    results = submit(employer, *(cleaning(kind=k, minutes_ago=m, niss=niss, workplace=workplace) for k, m in events))
    assert [codes(r) for r in results] == [[], [], [], []]
    [again] = submit(employer, cleaning(kind="OUT", minutes_ago=1, niss=niss, workplace=workplace))
    assert codes(again) == [E.CHECK_OUT_WITHOUT_CHECK_IN]


def test_a_cancelled_in_no_longer_counts_as_open(employer):
    niss, workplace = make_niss(), make_workplace_id()
    [first] = submit(employer, cleaning(kind="IN", minutes_ago=3, niss=niss, workplace=workplace))
    registration_cancel_batch(items=[CancelInput(first.registration.pk, "PLANNING")], caller=employer, channel="REST")
    [second] = submit(employer, cleaning(kind="IN", minutes_ago=1, niss=niss, workplace=workplace))
    assert codes(second) == []


@pytest.mark.parametrize(
    ("minutes_ago", "expected"),
    [(11, [E.EVENT_TOO_LATE]), (9, []), (-1.5, []), (-3, [E.EVENT_IN_FUTURE]), (-120, [E.EVENT_IN_FUTURE])],
)
def test_events_are_accepted_only_in_real_time(employer, minutes_ago, expected):
    [result] = submit(employer, cleaning(minutes_ago=minutes_ago))
    assert codes(result) == expected
    assert Registration.objects.count() == (0 if expected else 1)


def test_a_resent_event_is_answered_with_the_stored_one(employer):
    item = cleaning(minutes_ago=1)
    [first] = submit(employer, item)
    [again] = submit(employer, item)
    assert again.replayed
    assert again.registration.pk == first.registration.pk
    assert Registration.objects.count() == 1


def test_the_same_event_twice_in_one_batch_is_stored_once(employer):
    item = cleaning(minutes_ago=1)
    first, second = submit(employer, item, item)
    assert first.registration.pk == second.registration.pk
    assert Registration.objects.count() == 1


def test_one_bad_item_never_fails_the_others(employer):
    good = cleaning()
    bad = cleaning(niss=make_niss()[:-2] + "00")
    results = submit(employer, good, bad)
    assert codes(results[0]) == []
    assert codes(results[1]) == [E.PERSON_ID_INVALID]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"niss": "85073000" + "000"}, [E.PERSON_ID_INVALID]),
        ({"niss": "٨٥٠٧٣٠٠٣٣٢٨"}, [E.PERSON_ID_INVALID]),
        ({"niss": "8507300332"}, [E.PERSON_ID_INVALID]),
        ({"enterprise_number": "0448181967"}, [E.COMPANY_ID_CHECKSUM]),
        ({"enterprise_number": "2448181966"}, [E.COMPANY_ID_MALFORMED]),
        ({"enterprise_number": None}, [E.EMPLOYER_INVALID]),
        ({"foreign_vat_number": "NL123456789B01"}, [E.EMPLOYER_INVALID]),  # both employers
        ({"enterprise_number": None, "foreign_vat_number": "BE0448181966"}, [E.EMPLOYER_INVALID]),
        ({"workplace_id": "1Y1000NF9KCQ"}, [E.WORKPLACE_ID_MALFORMED]),
        ({"latitude": 91.0}, [E.PLACE_OF_WORK_INVALID]),
        ({"longitude": float("nan")}, [E.PLACE_OF_WORK_INVALID]),
        ({"latitude": float("inf")}, [E.PLACE_OF_WORK_INVALID]),
        ({"latitude": 0.0, "longitude": 0.0}, [E.PLACE_OF_WORK_INVALID]),
        ({"latitude": 4.35, "longitude": 50.85}, [E.PLACE_OF_WORK_INVALID]),  # swapped
        ({"longitude": None}, [E.PLACE_OF_WORK_INVALID]),
        ({"activity": "GARDENING"}, [E.ACTIVITY_UNKNOWN]),
        ({"event_type": "SIDEWAYS"}, [E.EVENT_INVALID]),
    ],
)
def test_bad_items_get_their_documented_code_and_store_nothing(employer, fields, expected):
    [result] = submit(employer, cleaning(**fields))
    assert codes(result) == expected
    assert result.errors[0].description
    assert not Registration.objects.exists()


def _printed(niss: str) -> str:
    return f" {niss[0:2]}.{niss[2:4]}.{niss[4:6]}-{niss[6:9]}.{niss[9:]} "


@pytest.mark.parametrize(
    "niss",
    [
        make_niss("000101", 1, born_2000=True),  # check computed on "2" + the 9 digits
        make_niss("852730", 3),  # BIS number, month + 20
        make_niss("854730", 4),  # BIS number, month + 40
        make_niss("850000", 5),  # unknown birth date
        _printed(make_niss("850730", 6)),  # the printed form: one documented normalisation
    ],
)
def test_valid_numbers_of_every_kind_are_accepted(employer, niss):
    [result] = submit(employer, cleaning(niss=niss))
    assert codes(result) == []


def test_a_foreign_employer_and_rounded_coordinates_are_stored(employer):
    item = cleaning(
        enterprise_number=None,
        foreign_vat_number="nl123456789b01",
        latitude=50.846557123456789,
        longitude=4.351697987654321,
        activity="OFFICE_CLEANING",
    )
    [result] = submit(employer, item)
    stored = Registration.objects.get(pk=result.registration.pk)
    assert (stored.enterprise_number, stored.foreign_vat_number) == ("", "NL123456789B01")
    assert (stored.latitude, stored.longitude) == (Decimal("50.846557"), Decimal("4.351698"))
    assert stored.activity == "OFFICE_CLEANING"


def test_an_item_collects_every_error(employer):
    [result] = submit(employer, cleaning(niss="1", workplace="x", minutes_ago=30))
    assert codes(result) == [E.WORKPLACE_ID_MALFORMED, E.PERSON_ID_INVALID, E.EVENT_TOO_LATE]


def test_consulting_clients_may_not_register():
    professional = caller_for(make_client(ClientRole.PROFESSIONAL))
    with pytest.raises(NotAuthorisedError):
        submit(professional, cleaning())


@pytest.mark.parametrize("count", [0, 201])
def test_a_batch_of_0_or_201_items_is_refused_whole(employer, count):
    with pytest.raises(BatchSizeError):
        submit(employer, *(cleaning() for _ in range(count)))
    assert not Registration.objects.exists()


def test_a_200_item_batch_takes_a_fixed_number_of_queries(employer, django_assert_max_num_queries):
    items = [cleaning(minutes_ago=1) for _ in range(200)]
    with django_assert_max_num_queries(16):
        results = submit(employer, *items)
    assert all(r.registration is not None for r in results)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_check_ins_of_one_person_and_place_store_exactly_one():
    niss, workplace = make_niss(), make_workplace_id()
    # Six clients of the employer: each sees the employer's whole state (docs/adr/0011).
    senders = [caller_for(make_client(ClientRole.ENTERPRISE, enterprise_number=EMPLOYER_NUMBER)) for _ in range(6)]
    barrier = threading.Barrier(len(senders))
    moment = timezone.now() - timedelta(minutes=1)  # the same IN, sent by six senders at once
    outcomes: list[list[int]] = []

    def check_in(sender):
        try:
            barrier.wait()
            [result] = submit(sender, cleaning(niss=niss, workplace=workplace, event_at=moment))
            outcomes.append(codes(result))
        finally:
            connection.close()

    threads = [threading.Thread(target=check_in, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [[]] + [[E.CHECK_IN_ALREADY_OPEN]] * (len(senders) - 1)
    assert Registration.objects.filter(niss=niss).count() == 1
