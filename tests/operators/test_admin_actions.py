"""The operators' admin: each action calls its service, is logged, and a viewer cannot do it."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.utils import timezone

from history.events import EventType
from history.selectors import history_for_registration, history_verify
from registrations.models import (
    DimonaPeriod,
    Enterprise,
    LimosaDeclaration,
    Person,
    Registration,
    Sector,
    SelfEmployedPeriod,
    Status,
)
from registrations.services.presences import registration_submit_batch
from registrations.validation.run import registration_validate_batch
from tests.factories import caller_for, make_client, make_declaration, make_niss, presence
from tests.operators.conftest import logged_in, make_registration, post_action

pytestmark = pytest.mark.django_db


def test_the_three_groups_hold_what_their_role_may_do():
    permissions = {
        group.name: set(group.permissions.values_list("codename", flat=True)) for group in Group.objects.all()
    }
    assert "view_registration" in permissions["viewer"]
    assert not {"cancel_registration", "revalidate_registration", "correct_registration"} & permissions["viewer"]
    assert {"cancel_registration", "revalidate_registration", "correct_registration"} <= permissions["corrector"]
    assert "manage_client_keys" not in permissions["corrector"]
    assert {"manage_client_keys", "manage_legal_hold", "change_client"} <= permissions["administrator"]


@pytest.fixture
def failed_for_lack_of_dimona():
    """A registration FAILED with remark 1 (no Dimona); the Dimona then arrives quietly."""
    caller = caller_for(make_client())
    niss = make_niss()
    Person.objects.create(niss=niss, given_name="An", family_name="Peeters")
    Enterprise.objects.create(enterprise_number=caller.enterprise_number, name="Bouw NV", active_from="2020-01-01")
    declaration = make_declaration(builder=caller.enterprise_number)
    item = presence(caller=caller, niss=niss, workplace_id=declaration.number)
    [result] = registration_submit_batch(items=[item], caller=caller, channel="WS")
    registration_validate_batch(registration_ids=[result.registration.pk])
    registration = Registration.objects.get(pk=result.registration.pk)
    assert registration.remarks == [1]
    DimonaPeriod.objects.create(
        employer=caller.enterprise_number, niss=niss, start="2020-01-01", worker_type="employee"
    )
    return registration


def test_a_corrector_revalidates_and_the_change_is_recorded_as_theirs(corrector, failed_for_lack_of_dimona):
    registration = failed_for_lack_of_dimona
    response = post_action(logged_in(corrector), "revalidate_selected", [registration.pk])
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == Status.VALIDATED
    last = history_for_registration(registration_id=registration.pk)[-1]
    assert (last.event_type, last.actor, last.channel) == (EventType.REVALIDATED, "operator:cor", "ADMIN")
    assert LogEntry.objects.filter(object_id=str(registration.pk), change_message="revalidated").exists()


def test_a_viewer_cannot_revalidate(viewer, failed_for_lack_of_dimona):
    registration = failed_for_lack_of_dimona
    http = logged_in(viewer)
    page = http.get("/admin/registrations/registration/")
    assert page.status_code == 200
    assert b"revalidate_selected" not in page.content
    post_action(http, "revalidate_selected", [registration.pk])
    registration.refresh_from_db()
    assert registration.status == Status.FAILED


def test_cancel_asks_for_a_reason_then_cancels_as_the_operator(corrector):
    registration = make_registration(registration_date=timezone.localdate() - timedelta(days=40))
    http = logged_in(corrector)
    form = post_action(http, "cancel_selected", [registration.pk])
    assert form.status_code == 200
    assert b'name="reason"' in form.content
    registration.refresh_from_db()
    assert registration.status == Status.VALIDATED  # nothing happens before the reason is given

    done = post_action(http, "cancel_selected", [registration.pk], apply="1", reason="PLANNING")
    assert done.status_code == 302
    registration.refresh_from_db()
    assert registration.status == Status.CANCELLED  # the admin channel is never too late
    last = history_for_registration(registration_id=registration.pk)[-1]
    assert last.event_type == EventType.CANCELLED
    assert (last.actor, last.channel, last.data["reason"]) == ("operator:cor", "ADMIN", "PLANNING")
    assert LogEntry.objects.filter(object_id=str(registration.pk), change_message="cancelled (PLANNING)").exists()


def test_a_viewer_cannot_cancel(viewer):
    registration = make_registration()
    http = logged_in(viewer)
    assert b"cancel_selected" not in http.get("/admin/registrations/registration/").content
    post_action(http, "cancel_selected", [registration.pk], apply="1", reason="PLANNING")
    registration.refresh_from_db()
    assert registration.status == Status.VALIDATED


def test_legal_hold_is_placed_by_an_administrator_and_recorded(administrator, corrector):
    registration = make_registration()
    post_action(logged_in(corrector), "hold_selected", [registration.pk])
    registration.refresh_from_db()
    assert not registration.legal_hold  # a corrector may not

    post_action(logged_in(administrator), "hold_selected", [registration.pk])
    registration.refresh_from_db()
    assert registration.legal_hold
    last = history_for_registration(registration_id=registration.pk)[-1]
    assert (last.event_type, last.data, last.actor) == (EventType.LEGAL_HOLD, {"hold": True}, "operator:ada")
    assert history_verify(registration_id=registration.pk)


def test_the_list_filters_answer_without_counting_everything(viewer):
    make_registration(status=Status.FAILED, remark_mask=0b101)
    make_registration(sector=Sector.MEAT)
    http = logged_in(viewer)
    for query in (
        "",
        "?sector__exact=3",
        "?status__exact=failed",
        "?remark=3",
        "?channel__exact=WS",
        "?legal_hold__exact=1",
    ):
        assert http.get(f"/admin/registrations/registration/{query}").status_code == 200, query
    failed_with_3 = http.get("/admin/registrations/registration/?remark=3")
    assert failed_with_3.context["cl"].result_count == 1
    assert http.get("/admin/registrations/registration/?remark=2").context["cl"].result_count == 0


def test_the_history_is_shown_in_order_and_read_only(viewer, corrector):
    registration = make_registration(registration_date=timezone.localdate() - timedelta(days=3))
    post_action(logged_in(corrector), "cancel_selected", [registration.pk], apply="1", reason="HOLIDAY")
    page = logged_in(viewer).get(f"/admin/registrations/registration/{registration.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("registration.created") < html.index("registration.cancelled")
    assert 'name="_save"' not in html


def test_a_workplace_on_legal_hold_is_set_by_an_administrator_only(administrator, viewer):
    declaration = make_declaration(builder=make_client().enterprise_number)
    url = "/admin/registrations/declarationofworks/"
    body = {"action": "hold_selected", "_selected_action": [declaration.number]}
    logged_in(viewer).post(url, body)
    declaration.refresh_from_db()
    assert not declaration.legal_hold
    assert logged_in(administrator).post(url, body).status_code == 302
    declaration.refresh_from_db()
    assert declaration.legal_hold
    assert LogEntry.objects.filter(object_id=declaration.number, change_message="legal hold placed").exists()


def test_a_cancel_of_more_than_one_batch_goes_through_in_batches(corrector):
    ids = [make_registration().pk for _ in range(201)]
    response = post_action(logged_in(corrector), "cancel_selected", ids, apply="1", reason="DISEASE")
    assert response.status_code == 302
    assert Registration.objects.filter(pk__in=ids, status=Status.CANCELLED).count() == 201


def test_an_action_on_too_many_rows_is_refused(corrector, monkeypatch):
    monkeypatch.setattr("registrations.admin.registrations.MAX_ACTION_ROWS", 2)
    ids = [make_registration().pk for _ in range(3)]
    response = post_action(logged_in(corrector), "cancel_selected", ids, apply="1", reason="DISEASE")
    assert response.status_code == 302
    assert not Registration.objects.filter(pk__in=ids, status=Status.CANCELLED).exists()


def test_a_persons_registrations_are_found_without_the_niss_in_any_url(viewer):
    mine = make_registration()
    make_registration()  # somebody else's
    http = logged_in(viewer)
    assert b"/admin/registrations/registration/person/" in http.get("/admin/registrations/registration/").content
    found = http.post("/admin/registrations/registration/person/", {"niss": mine.niss})
    assert found.status_code == 302
    assert mine.niss not in found["Location"]
    listing = http.get(found["Location"])
    assert listing.context["cl"].result_count == 1
    assert [r.pk for r in listing.context["cl"].result_list] == [mine.pk]
    refused = http.get("/admin/registrations/registration/?q=" + mine.niss)
    assert refused.status_code == 302
    assert mine.niss not in refused["Location"]


def test_an_unknown_person_key_shows_nothing(viewer):
    make_registration()
    http = logged_in(viewer)
    http.post("/admin/registrations/registration/person/", {"niss": make_registration().niss})
    listing = http.get("/admin/registrations/registration/?person=forged")
    assert listing.context["cl"].result_count == 0


@pytest.mark.parametrize("register", ["person", "dimonaperiod", "selfemployedperiod", "limosadeclaration"])
def test_the_reference_registers_find_a_person_the_same_way(viewer, register):
    niss = make_niss()
    rows = {
        "person": lambda: Person.objects.create(niss=niss, given_name="A", family_name="B"),
        "dimonaperiod": lambda: DimonaPeriod.objects.create(
            employer=make_client().enterprise_number, niss=niss, start="2020-01-01", worker_type="employee"
        ),
        "selfemployedperiod": lambda: SelfEmployedPeriod.objects.create(niss=niss, start="2020-01-01"),
        "limosadeclaration": lambda: LimosaDeclaration.objects.create(limosa_id="123", niss=niss, start="2020-01-01"),
    }
    rows[register]()
    http = logged_in(viewer)
    found = http.post(f"/admin/registrations/{register}/person/", {"niss": niss})
    assert found.status_code == 302
    assert niss not in found["Location"]
    assert http.get(found["Location"]).context["cl"].result_count == 1
