"""Searching: SOAP searchPresences, REST POST /presenceRegistrations/search and, where the
criterion exists there, REST GET /presenceRegistrations.

Parity here means: the same criteria give the same total and the same ids in the same order
(by id, the default of all three). REST searches only cleaning events, so the SOAP search asks
for sector 4, the one thing it has to say that REST implies. A criterion is asked through
every search that can express it: GET has no NISS (it never travels in a URL) and takes one
remark; SOAP has no validity, so "invalid" is "has any of the 17 remarks", and "valid" or
"pending" exist there only for a not-cancelled registration (its status label).

A cancelled registration keeps the validity of its last validation (REST GET …/{id} shows it
so; validity is defined once, in the core, registrations/selectors/lifecycle.py): searched by
validity, it is found by every search. REST POST search once turned a validity into a stored
status and missed the cancelled ones ("invalid", "pending", "cancelled and invalid",
"cancelled and pending" below guard that).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from history.models import HistoryEvent
from registrations.models import Registration
from tests.factories import make_enterprise_number, make_niss
from tests.parity.conftest import CLEANING, World
from tests.parity.gateways import SEARCH_ROUTES, Criteria, Page, Refused, Sort

pytestmark = pytest.mark.django_db

DIMONA_NOT_OK, DUC_NOT_EXISTING = 1, 10
NOT_SOAP = ("rest", "rest-get")  # a validity of any status: SOAP has no word for it
NOT_GET = ("soap", "rest")  # a NISS, or more than one remark


@dataclass(frozen=True)
class Case:
    name: str
    criteria: Callable[[World], Criteria]
    expected: tuple[str, ...]  # the stories found, by name
    routes: tuple[str, ...] = SEARCH_ROUTES  # the searches that can express the criteria


CASES = [
    Case("the window alone", lambda w: Criteria(), CLEANING),
    Case("a person", lambda w: Criteria(niss=w.expected("invalid").niss), ("invalid",), NOT_GET),
    Case(
        "an employer",
        lambda w: Criteria(employer=w.enterprises["E"]),
        ("valid", "invalid", "invalid_cancelled", "pending", "pending_cancelled"),
    ),
    Case(
        "a workplace",
        lambda w: Criteria(workplace=w.workplaces["W"]),
        ("valid", "invalid_cancelled", "pending_cancelled", "other"),
    ),
    Case("cancelled", lambda w: Criteria(status="cancelled"), ("invalid_cancelled", "pending_cancelled")),
    Case(
        "not cancelled", lambda w: Criteria(status="registered"), ("valid", "invalid", "pending", "by_sender", "other")
    ),
    # A cancelled registration keeps its validity (POST search once missed these four).
    Case("invalid", lambda w: Criteria(validity="invalid"), ("invalid", "invalid_cancelled", "by_sender", "other")),
    Case("pending", lambda w: Criteria(validity="pending"), ("pending", "pending_cancelled"), NOT_SOAP),
    Case("cancelled and invalid", lambda w: Criteria(status="cancelled", validity="invalid"), ("invalid_cancelled",)),
    Case(
        "cancelled and pending",
        lambda w: Criteria(status="cancelled", validity="pending"),
        ("pending_cancelled",),
        NOT_SOAP,
    ),
    Case("valid", lambda w: Criteria(validity="valid"), ("valid",), NOT_SOAP),
    Case(
        "not cancelled and invalid",
        lambda w: Criteria(status="registered", validity="invalid"),
        ("invalid", "by_sender", "other"),
    ),
    Case("not cancelled and pending", lambda w: Criteria(status="registered", validity="pending"), ("pending",)),
    Case("not cancelled and valid", lambda w: Criteria(status="registered", validity="valid"), ("valid",)),
    # W2 has no Declaration of Works: remark 10 for what was validated there.
    Case("a remark", lambda w: Criteria(remarks=(DUC_NOT_EXISTING,)), ("invalid", "by_sender")),
    Case(
        "any of two remarks",
        lambda w: Criteria(remarks=(DIMONA_NOT_OK, DUC_NOT_EXISTING)),
        ("invalid", "invalid_cancelled", "by_sender", "other"),
        NOT_GET,
    ),
    Case(
        "an employer, a workplace and a status",
        lambda w: Criteria(employer=w.enterprises["E"], workplace=w.workplaces["W"], status="registered"),
        ("valid",),
    ),
]


@pytest.mark.parametrize(
    ("case", "route"),
    [pytest.param(case, route, id=f"{case.name.replace(' ', '_')}-{route}") for case in CASES for route in case.routes],
)
def test_the_same_criteria_find_the_same_registrations(world, case, route):
    criteria = case.criteria(world)
    search = world.gateway(route, "inspection")
    assert search.supports(criteria)
    expected = world.ids_of(*case.expected)
    assert search.search(criteria) == Page(len(expected), expected)


@pytest.mark.parametrize("route", SEARCH_ROUTES)
def test_pages_hold_the_same_ids_and_the_same_total(world, route):
    everything = world.ids_of(*CLEANING)
    search = world.gateway(route, "inspection")
    pages = [search.search(Criteria(), page=page, page_size=3) for page in (1, 2, 3, 4)]
    assert pages == [Page(len(everything), everything[start : start + 3]) for start in (0, 3, 6, 9)]


@pytest.mark.parametrize("route", ["soap", "rest"])  # GET sorts by id only
@pytest.mark.parametrize(
    "sort",
    [Sort("employer"), Sort("employer", descending=True), Sort("workplace"), Sort("workplace", descending=True)],
    ids=["employer", "employer-desc", "workplace", "workplace-desc"],
)
def test_the_same_sort_gives_the_same_order(world, route, sort):
    field = {"employer": "enterprise_number", "workplace": "workplace_id"}[sort.key]
    stored = Registration.objects.filter(pk__in=world.ids_of(*CLEANING))
    expected = tuple(pk for _, pk in sorted(((getattr(r, field), r.pk) for r in stored), reverse=sort.descending))
    assert world.gateway(route, "inspection").search(Criteria(), sort=sort) == Page(len(expected), expected)


def _wrong_check(number: str) -> str:
    """The same number with its two check digits off by one."""
    return number[:-2] + f"{(int(number[-2:]) + 1) % 100:02d}"


@pytest.mark.parametrize(
    ("criterion", "route"),
    [("niss", "soap"), ("niss", "rest"), ("employer", "soap"), ("employer", "rest"), ("employer", "rest-get")],
)
def test_a_criterion_failing_its_check_is_refused_by_name(world, criterion, route):
    bad = _wrong_check(make_niss() if criterion == "niss" else make_enterprise_number())
    before = HistoryEvent.objects.count()
    answer = world.gateway(route, "inspection").search(Criteria(**{criterion: bad}))
    assert isinstance(answer, Refused)
    assert answer.criterion == criterion
    assert answer.reason
    assert bad not in answer.reason  # a NISS never travels back in an error
    assert str(int(bad)) not in answer.reason
    assert HistoryEvent.objects.count() == before  # nothing read, nothing logged
