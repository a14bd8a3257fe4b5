"""A person-search key is only good in the session that made it: anywhere else (another
operator's link, an expired or forged key) the list is empty and says so, and no bulk action
reaches beyond it, "select all" included."""

from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User

from history.models import HistoryEvent
from registrations.models import DimonaPeriod, LimosaDeclaration, Person, Registration, SelfEmployedPeriod, Status
from tests.factories import make_client, make_niss
from tests.operators.conftest import logged_in, make_registration, staff_in

pytestmark = pytest.mark.django_db

REGISTRATIONS = "/admin/registrations/registration/"


def other_operators_link(register: str, niss: str) -> str:
    """The list link another operator's person search produced, in their own session (the
    person has a row, so the link shows exactly that row there)."""
    row_of(register, niss)
    colleague = logged_in(staff_in("corrector", "colleague"))
    found = colleague.post(f"/admin/registrations/{register}/person/", {"niss": niss})
    assert found.status_code == 302
    assert colleague.get(found["Location"]).context["cl"].result_count == 1  # good in its session
    return str(found["Location"])


def row_of(register: str, niss: str) -> None:
    builders: dict[str, Any] = {
        "registration": lambda: make_registration(niss=niss),
        "person": lambda: Person.objects.create(niss=niss, given_name="A", family_name="B"),
        "dimonaperiod": lambda: DimonaPeriod.objects.create(
            employer=make_client().enterprise_number, niss=niss, start="2020-01-01", worker_type="employee"
        ),
        "selfemployedperiod": lambda: SelfEmployedPeriod.objects.create(niss=niss, start="2020-01-01"),
        "limosadeclaration": lambda: LimosaDeclaration.objects.create(
            limosa_id=f"L{niss}", niss=niss, start="2020-01-01"
        ),
    }
    builders[register]()


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


REGISTERS = ["registration", "person", "dimonaperiod", "selfemployedperiod", "limosadeclaration"]


@pytest.mark.parametrize("persona", ["viewer", "corrector"])
@pytest.mark.parametrize("register", REGISTERS)
def test_a_foreign_person_search_link_shows_an_empty_list_and_says_why(request, persona, register):
    for _ in range(3):
        row_of(register, make_niss())
    link = other_operators_link(register, make_niss())
    http = logged_in(request.getfixturevalue(persona))  # a session with no person search at all
    listing = http.get(link)
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    assert list(listing.context["cl"].result_list) == []
    assert any("unknown or has expired" in message for message in messages_of(listing))


def test_a_forged_key_beside_the_operators_own_searches_shows_nothing(viewer):
    mine = make_registration()
    make_registration()
    http = logged_in(viewer)
    http.post(f"{REGISTRATIONS}person/", {"niss": mine.niss})
    listing = http.get(f"{REGISTRATIONS}?person=forged&status__exact=validated")
    assert listing.context["cl"].result_count == 0
    assert any("unknown or has expired" in message for message in messages_of(listing))


@pytest.fixture
def failed_registrations() -> list[Registration]:
    return [make_registration(status=Status.FAILED, remark_mask=0b1) for _ in range(4)]


def snapshot(registrations: list[Registration]) -> tuple[list[tuple[int, str]], int, int]:
    """What an action could change: the statuses, the history and the admin log."""
    rows = list(
        Registration.objects.filter(pk__in=[r.pk for r in registrations]).order_by("pk").values_list("pk", "status")
    )
    return rows, HistoryEvent.objects.count(), LogEntry.objects.count()


def select_across(http: Any, link: str, action: str, ticked: list[Any], **extra: str) -> Any:
    """The page's action form: rows ticked, "Select all" clicked, the action chosen."""
    form = {"action": action, "select_across": "1", "index": "0", "_selected_action": [str(pk) for pk in ticked]}
    return http.post(link, {**form, **extra})


@pytest.mark.parametrize("persona", ["viewer", "corrector"])
@pytest.mark.parametrize(
    ("action", "extra"),
    [("revalidate_selected", {}), ("cancel_selected", {"apply": "1", "reason": "DISEASE"})],
)
@pytest.mark.parametrize("also", ["", "&status__exact=failed"])
def test_select_all_on_a_foreign_person_search_changes_nothing(
    request, failed_registrations, persona, action, extra, also
):
    link = other_operators_link("registration", make_niss()) + also
    user: User = request.getfixturevalue(persona)
    before = snapshot(failed_registrations)
    # Ticks a row it never saw: a stale page, or the unfiltered table the bug used to show.
    response = select_across(logged_in(user), link, action, [failed_registrations[0].pk], **extra)
    assert response.status_code in (200, 302)
    assert snapshot(failed_registrations) == before


def test_select_all_on_an_unfiltered_list_is_refused(corrector, failed_registrations):
    before = snapshot(failed_registrations)
    http = logged_in(corrector)
    ticked = [failed_registrations[0].pk]
    response = select_across(http, REGISTRATIONS, "cancel_selected", ticked, apply="1", reason="DISEASE")
    assert response.status_code == 302
    assert snapshot(failed_registrations) == before
    assert any("unfiltered list is refused" in message for message in messages_of(http.get(response["Location"])))


def test_select_all_on_a_filtered_list_acts_on_exactly_that_list(corrector, failed_registrations):
    validated = make_registration(status=Status.VALIDATED)
    link = f"{REGISTRATIONS}?status__exact=failed"
    ticked = [failed_registrations[0].pk]
    response = select_across(logged_in(corrector), link, "cancel_selected", ticked, apply="1", reason="DISEASE")
    assert response.status_code == 302
    cancelled = Registration.objects.filter(status=Status.CANCELLED).values_list("pk", flat=True)
    assert sorted(cancelled) == sorted(r.pk for r in failed_registrations)
    validated.refresh_from_db()
    assert validated.status == Status.VALIDATED


@pytest.mark.parametrize("register", ["person", "dimonaperiod", "selfemployedperiod", "limosadeclaration"])
def test_deleting_all_of_a_foreign_person_search_deletes_nothing(administrator, register):
    for _ in range(3):
        row_of(register, make_niss())
    model = {
        "person": Person,
        "dimonaperiod": DimonaPeriod,
        "selfemployedperiod": SelfEmployedPeriod,
        "limosadeclaration": LimosaDeclaration,
    }[register]
    link = other_operators_link(register, make_niss())
    ticked = list(model.objects.values_list("pk", flat=True)[:1])
    select_across(logged_in(administrator), link, "delete_selected", ticked, post="yes")
    assert model.objects.count() == 4  # three others and the searched person


def test_a_filter_that_no_longer_applies_empties_the_list(viewer):
    # With no client left, Django has no sender choices and would skip the sender filter.
    make_registration(sender=None)
    listing = logged_in(viewer).get(f"{REGISTRATIONS}?sender__id__exact=00000000-0000-4000-8000-000000000000")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    assert any("does not apply any more" in message for message in messages_of(listing))


def test_the_message_speaks_the_operators_language(viewer):
    link = other_operators_link("registration", make_niss())
    listing = logged_in(viewer).get(link, HTTP_ACCEPT_LANGUAGE="nl")
    assert listing.context["cl"].result_count == 0
    assert any("onbekend of verlopen" in message for message in messages_of(listing))
