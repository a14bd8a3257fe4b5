"""Operator corrections of cleaning events: a new event that keeps the original (30 days)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from history.events import EventType
from history.selectors import history_for_registration, history_verify
from registrations.domain.authorisation import Caller
from registrations.models import Registration, Sector, Status
from registrations.selectors.performances import pair_events
from registrations.services.corrections import CorrectionError, CorrectionInput, registration_correct_cleaning
from tests.factories import caller_for, make_client
from tests.operators.conftest import logged_in, make_registration

pytestmark = pytest.mark.django_db


def open_in(days_ago: int = 0) -> Registration:
    at = timezone.now() - timedelta(days=days_ago, hours=3)
    return make_registration(
        sector=Sector.CLEANING, event_type="IN", event_at=at, registration_date=timezone.localdate(at)
    )


def test_the_forgotten_out_is_added_and_the_original_in_is_kept(corrector, django_capture_on_commit_callbacks):
    original = open_in(days_ago=2)
    before = Registration.objects.values().get(pk=original.pk)
    out_at = original.event_at + timedelta(hours=8)
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(corrector).post(
            f"/admin/registrations/registration/{original.pk}/correct/",
            {"event_type": "OUT", "event_at": timezone.localtime(out_at).strftime("%Y-%m-%d %H:%M"), "note": "forgot"},
        )
    assert response.status_code == 302
    correction = Registration.objects.get(corrects_id=original.pk)
    assert (correction.event_type, correction.channel, correction.niss) == ("OUT", "ADMIN", original.niss)
    assert correction.status != Status.REGISTERED  # validated like any other registration
    assert Registration.objects.values().get(pk=original.pk) == before  # never edited
    [performance] = pair_events([original, correction])
    assert not performance.is_open
    original_events = history_for_registration(registration_id=original.pk)
    assert original_events[-1].event_type == EventType.CORRECTED
    assert original_events[-1].data == {"correction": correction.pk, "note": "forgot"}
    assert original_events[-1].actor == "operator:cor"
    created = history_for_registration(registration_id=correction.pk)[0]
    assert created.data["corrects"] == original.pk
    assert history_verify(registration_id=original.pk)


def test_an_event_older_than_30_days_cannot_be_corrected():
    original = open_in(days_ago=31)
    with pytest.raises(CorrectionError, match="30 days"):
        registration_correct_cleaning(
            correction=CorrectionInput(original.pk, "OUT", original.event_at + timedelta(hours=1), "late"),
            caller=Caller.for_operator("cor"),
        )
    assert not Registration.objects.filter(corrects_id=original.pk).exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event_at_delta": timedelta(days=1)}, "past moment"),
        ({"note": " "}, "why"),
        ({"event_type": "PAUSE"}, "IN or OUT"),
    ],
)
def test_a_bad_correction_is_refused(change, message):
    original = open_in()
    correction = CorrectionInput(
        original.pk,
        change.get("event_type", "OUT"),
        timezone.now() + change.get("event_at_delta", timedelta(minutes=-5)),
        change.get("note", "n"),
    )
    with pytest.raises(CorrectionError, match=message):
        registration_correct_cleaning(correction=correction, caller=Caller.for_operator("cor"))


def test_only_cleaning_events_and_only_operators():
    presence = make_registration()
    with pytest.raises(CorrectionError, match="cleaning"):
        registration_correct_cleaning(
            correction=CorrectionInput(presence.pk, "OUT", timezone.now(), "n"), caller=Caller.for_operator("cor")
        )
    original = open_in()
    with pytest.raises(CorrectionError, match="operator"):
        registration_correct_cleaning(
            correction=CorrectionInput(original.pk, "OUT", timezone.now(), "n"), caller=caller_for(make_client())
        )


def test_a_viewer_cannot_correct(viewer):
    original = open_in()
    http = logged_in(viewer)
    assert http.get(f"/admin/registrations/registration/{original.pk}/correct/").status_code == 403
    response = http.post(
        f"/admin/registrations/registration/{original.pk}/correct/",
        {"event_type": "OUT", "event_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"), "note": "x"},
    )
    assert response.status_code == 403
    assert not Registration.objects.filter(corrects_id=original.pk).exists()
