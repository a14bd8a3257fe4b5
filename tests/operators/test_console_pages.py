"""The console in the operator's words: remarks as code and label in the active language,
a registration's history as a timeline, cleaning events with IN/OUT and time, and the
workplace and person pages linked from every registration."""

import html
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registrations.admin.guards import person_url_key
from registrations.domain.remarks import REMARKS
from registrations.models import Registration, Status
from tests.operators.conftest import logged_in, make_registration
from tests.operators.console_world import ConsoleWorld, build_console_world, clear_of_midnight

pytestmark = pytest.mark.django_db

LANGUAGES = ["nl", "fr", "de", "en"]


@pytest.fixture
def world() -> ConsoleWorld:
    with clear_of_midnight():
        return build_console_world()


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def plain(fragment: str) -> str:
    """A piece of the page as read: tags dropped, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def section(text: str, element_id: str) -> str:
    return text.partition(f'id="{element_id}"')[2].partition("</section>")[0]


def in_language(http, language: str):
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return http


def change_url(registration: Registration) -> str:
    return reverse("admin:registrations_registration_change", args=[registration.pk])


def workplace_url(workplace_id: str) -> str:
    return reverse("admin:registrations_registration_workplace", args=[workplace_id])


# --- remarks in the operator's language ------------------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_registration_page_shows_each_remark_with_its_label_in_the_active_language(viewer, world, language):
    text = page_text(in_language(logged_in(viewer), language).get(change_url(world.cancelled)))
    assert world.cancelled.remarks
    for number in world.cancelled.remarks:
        assert f"{number}: {REMARKS[number].label(language)}" in text
    others = {code: getattr(REMARKS[12], code) for code in LANGUAGES if code != language}
    assert not [code for code, label in others.items() if label in text]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_list_shows_remark_labels_and_its_remark_filter_speaks_the_same_language(viewer, world, language):
    text = page_text(in_language(logged_in(viewer), language).get("/admin/registrations/registration/"))
    listed = text.partition('id="result_list"')[2].partition("</table>")[0]
    for number in world.cancelled.remarks:
        assert f"{number}: {REMARKS[number].label(language)}" in listed
    sidebar = text.partition('id="changelist-filter"')[2]
    assert all(f"{number}: {REMARKS[number].label(language)}" in sidebar for number in REMARKS)


def test_the_status_reads_in_words_next_to_the_contracts_code(viewer, world):
    text = page_text(in_language(logged_in(viewer), "fr").get(change_url(world.story)))
    assert world.story.status == Status.FAILED
    assert "remarques trouvées" in text
    assert "FAILED" in text
    sidebar = page_text(in_language(logged_in(viewer), "nl").get("/admin/registrations/registration/"))
    assert "geldig (VALIDATED)" in sidebar.partition('id="changelist-filter"')[2]


def test_the_status_filter_keeps_filtering_by_the_stored_status(viewer, world):
    listing = logged_in(viewer).get("/admin/registrations/registration/", {"status__exact": "cancelled"})
    assert [row.pk for row in listing.context["cl"].result_list] == [world.cancelled.pk]


# --- cleaning events ------------------------------------------------------------------------
def test_cleaning_rows_show_in_or_out_and_the_event_time_in_the_list_and_on_their_page(viewer, world):
    http = logged_in(viewer)
    listing = http.get("/admin/registrations/registration/", {"sector__exact": "4"})
    rows = page_text(listing).partition('id="result_list"')[2].split("<tr")[2:]
    event_time = timezone.localtime(world.checked_out.event_at).strftime("%H:%M")
    [row] = [row for row in rows if f">{world.checked_out.pk}<" in row]
    assert ">OUT<" in row
    assert event_time in row
    page = page_text(http.get(change_url(world.checked_out)))
    assert "IN/OUT" in page
    assert ">OUT<" in page
    assert event_time in page
    presence_page = page_text(http.get(change_url(world.story)))
    assert "IN/OUT" not in presence_page.partition('id="timeline"')[0]


# --- the timeline -----------------------------------------------------------------------------
def timeline_events(text: str) -> list[str]:
    return re.findall(r'data-event="([a-z_]+)"', text)


def test_the_history_reads_as_a_timeline_of_who_did_what_when_and_through_which_channel(viewer, world):
    text = page_text(logged_in(viewer).get(change_url(world.story)))
    timeline = section(text, "timeline")
    assert timeline_events(timeline) == ["created", "validated", "revalidated", "consulted", "legal_hold"]
    created, validated, revalidated, consulted, held = map(plain, timeline.split('data-event="')[1:])
    sender = world.story.sender
    assert f"by client {sender.name}, through SOAP web service" in created
    assert "status: waiting for validation" in created
    assert "by validation worker, through automatic validation" in validated
    assert f"remark added: 1: {REMARKS[1].en}" in validated
    assert f"remark cleared: 1: {REMARKS[1].en}" in revalidated
    assert f"remark added: 16: {REMARKS[16].en}" in revalidated
    assert "consulted by inspection" in consulted
    assert "inspection client" in consulted  # the inspection client's name
    assert "legal hold placed" in held
    assert "by operator cor, through operators' console" in held


def test_each_timeline_entry_keeps_its_raw_record_one_click_away(viewer, world):
    text = page_text(logged_in(viewer).get(change_url(world.story)))
    timeline = section(text, "timeline")
    raw = re.findall(r'<details class="raw"><summary>raw record</summary><pre>(.*?)</pre></details>', timeline, re.S)
    assert len(raw) == 5
    assert '"remarks": [\n    16\n  ]' in raw[2]
    assert '"hold": true' in raw[4]
    assert "<script" not in timeline


def test_cancellations_and_corrections_read_with_their_reason_note_and_links(corrector, world):
    http = logged_in(corrector)
    cancelled = section(page_text(http.get(change_url(world.cancelled))), "timeline")
    assert timeline_events(cancelled)[-1] == "cancelled"
    assert "reason: holiday" in plain(cancelled)
    assert "status: cancelled SUCCESSFULLY CANCELLED" in plain(cancelled)
    original = section(page_text(http.get(change_url(world.corrected))), "timeline")
    assert f"corrected by registration #{world.correction.pk}" in plain(original)
    assert f'href="{change_url(world.correction)}"' in original
    assert "note: OUT forgotten" in plain(original)
    correction = section(page_text(http.get(change_url(world.correction))), "timeline")
    assert f'href="{change_url(world.corrected)}"' in correction
    assert "cleaning event OUT" in plain(correction)


def test_the_timeline_speaks_the_active_language(viewer, world):
    text = page_text(in_language(logged_in(viewer), "nl").get(change_url(world.cancelled)))
    timeline = plain(section(text, "timeline"))
    assert "geannuleerd" in timeline
    assert "reden: vakantie" in timeline
    assert f"opmerking toegevoegd: 12: {REMARKS[12].nl}" in timeline


# --- links from a registration ------------------------------------------------------------------
def test_a_registration_links_to_its_workplace_and_person_pages_without_a_niss_in_any_url(viewer, world):
    text = page_text(logged_in(viewer).get(change_url(world.story)))
    links = re.findall(r'href="([^"]*)"', text)
    assert workplace_url(world.workplace_id) in links
    person = reverse("admin:registrations_registration_person_page", args=[world.story.niss])
    assert person in links
    assert person_url_key(world.story.niss) in person
    assert not [url for url in links if world.story.niss in url]


# --- the workplace page -------------------------------------------------------------------------
def test_the_workplace_page_shows_who_is_on_site_today(viewer, world):
    text = page_text(logged_in(viewer).get(workplace_url(world.workplace_id)))
    on_site = text.partition('id="on-site"')[2].partition("</table>")[0]
    assert world.story.niss in on_site
    assert world.checked_in.niss in on_site
    assert "Bea Claes" in on_site
    assert world.cancelled.niss not in on_site  # cancelled
    assert world.checked_out.niss not in on_site  # went out again
    assert world.corrected.niss not in on_site  # its OUT came through a correction


def test_the_workplace_page_counts_registrations_by_day_and_lists_remarks_and_the_latest(viewer, world):
    make_registration(workplace_id=world.workplace_id, registration_date=timezone.localdate() - timedelta(days=3))
    text = page_text(logged_in(viewer).get(workplace_url(world.workplace_id)))
    by_day = text.partition('id="by-day"')[2].partition("</table>")[0]
    rows = re.findall(r"<tr><td>[^<]*</td>(.*?)</tr>", by_day, re.S)
    totals = [int(re.findall(r"<strong>(\d+)</strong>", row)[0]) for row in rows]
    today = Registration.objects.filter(workplace_id=world.workplace_id, registration_date=timezone.localdate())
    assert len(rows) == 14
    assert totals[0] == today.count()
    assert totals[3] == 1
    assert sum(totals) == today.count() + 1
    remarks = text.partition('id="workplace-remarks"')[2].partition("</table>")[0]
    assert f"16: {REMARKS[16].en}" in remarks
    assert f"12: {REMARKS[12].en}" in remarks
    latest = text.partition('id="latest"')[2]
    assert all(f">{registration.pk}<" in latest for registration in (world.story, world.cancelled))
    assert "Rue de la Loi" in text


def test_a_workplace_no_declaration_describes_still_has_a_page(viewer):
    registration = make_registration()
    text = page_text(logged_in(viewer).get(workplace_url(registration.workplace_id)))
    assert "No Declaration of Works is known for this workplace" in text
    assert f">{registration.pk}<" in text


def test_the_workplace_page_reads_in_a_fixed_number_of_queries(viewer, world):
    http = logged_in(viewer)
    http.get(workplace_url(world.workplace_id))  # the session and permissions, cached
    with CaptureQueriesContext(connection) as few:
        http.get(workplace_url(world.workplace_id))
    for _ in range(6):
        make_registration(workplace_id=world.workplace_id, remark_mask=0b1000000000001)
    with CaptureQueriesContext(connection) as more:
        page = http.get(workplace_url(world.workplace_id))
    assert page.status_code == 200
    assert len(more) == len(few)


def test_a_malformed_workplace_id_is_not_found(viewer):
    assert logged_in(viewer).get("/admin/registrations/registration/workplace/not-a-workplace/").status_code == 404


# --- the person page ----------------------------------------------------------------------------
def test_the_person_search_opens_the_persons_page_without_the_niss_in_the_url(viewer, world):
    http = logged_in(viewer)
    found = http.post("/admin/registrations/registration/person/", {"niss": world.story.niss, "open": "page"})
    assert found.status_code == 302
    assert world.story.niss not in found["Location"]
    text = page_text(http.get(found["Location"]))
    assert "Person An Peeters" in text
    assert world.story.niss in text.partition('id="person"')[2]
    registrations = text.partition('id="person-registrations"')[2]
    assert f">{world.story.pk}<" in registrations
    assert f">{world.cancelled.pk}<" not in registrations  # another person's
    assert f"16: {REMARKS[16].en}" in text.partition('id="person-remarks"')[2]
    assert not [url for url in re.findall(r'(?:href|action)="([^"]*)"', text) if world.story.niss in url]


def test_the_person_search_without_open_still_leads_to_the_filtered_list(viewer, world):
    http = logged_in(viewer)
    found = http.post("/admin/registrations/registration/person/", {"niss": world.story.niss})
    listing = http.get(found["Location"])
    assert [row.pk for row in listing.context["cl"].result_list] == [world.story.pk]
    person = reverse("admin:registrations_registration_person_page", args=[world.story.niss])
    assert f'href="{person}"' in listing.content.decode()


def test_the_person_page_posts_the_niss_to_the_list_and_to_the_consultations(corrector, world):
    http = logged_in(corrector)
    page = page_text(http.get(reverse("admin:registrations_registration_person_page", args=[world.story.niss])))
    forms = re.findall(r'<form class="inline" method="post" action="([^"]*)">', page)
    assert forms == ["/admin/registrations/registration/person/", "/admin/worker-access/"]
    listing = http.get(http.post(forms[0], {"niss": world.story.niss})["Location"])
    assert [row.pk for row in listing.context["cl"].result_list] == [world.story.pk]
    accesses = page_text(http.post(forms[1], {"niss": world.story.niss}))
    assert "inspection client" in accesses.partition('id="worker-accesses"')[2]


def test_a_person_unknown_to_the_national_register_still_has_a_page(viewer):
    registration = make_registration()
    text = page_text(
        logged_in(viewer).get(reverse("admin:registrations_registration_person_page", args=[registration.niss]))
    )
    assert "Not known in the National Register" in text
    assert f">{registration.pk}<" in text


@pytest.mark.parametrize("how", ["niss", "forged", "truncated"])
def test_a_person_page_is_found_only_by_its_key(viewer, how):
    niss = make_registration().niss
    key = person_url_key(niss)
    segment = {"niss": niss, "forged": key[:-1] + ("A" if key[-1] != "A" else "B"), "truncated": key[:-1]}[how]
    response = logged_in(viewer).get(f"/admin/registrations/registration/person/{segment}/")
    assert response.status_code == 404
    assert niss.encode() not in response.content


# --- who may see them -------------------------------------------------------------------------
def test_the_pages_are_for_operators_only(django_user_model, client, world):
    pages = [
        workplace_url(world.workplace_id),
        reverse("admin:registrations_registration_person_page", args=[world.story.niss]),
    ]
    outsider = django_user_model.objects.create_user(username="o", password="pw", is_staff=True)
    member = django_user_model.objects.create_user(username="m", password="pw", is_staff=False)
    for url in pages:
        assert logged_in(outsider).get(url).status_code == 403
        anonymous = client.get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/admin/login/")
        assert world.story.niss not in anonymous["Location"]
        assert logged_in(member).get(url).status_code == 302
