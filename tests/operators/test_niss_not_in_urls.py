"""A NISS never travels in a console URL: no list filter or search on a person identifier,
and a National Register person's pages are addressed by an opaque key (spec §9)."""

import html
import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.test import override_settings
from django.urls import reverse

from history.events import EventType
from history.models import HistoryEvent
from history.services import NewEvent, history_record_many
from registrations.admin.guards import PersonIdentifierGuardMixin, niss_from_person_url_key, person_url_key
from registrations.models import DimonaPeriod, LimosaDeclaration, Person, Registration, SelfEmployedPeriod
from tests.factories import make_client, make_niss
from tests.operators.conftest import logged_in, make_registration

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"


@pytest.fixture
def niss() -> str:
    """One person with a row in every list that holds a NISS."""
    number = make_niss()
    make_registration(niss=number)
    Person.objects.create(niss=number, given_name="An", family_name="Peeters")
    DimonaPeriod.objects.create(
        employer=make_client().enterprise_number, niss=number, start="2020-01-01", worker_type="employee"
    )
    SelfEmployedPeriod.objects.create(niss=number, start="2020-01-01")
    LimosaDeclaration.objects.create(limosa_id="L1", niss=number, start="2020-01-01")
    return number


@pytest.mark.parametrize(
    ("changelist", "lookup"),
    [
        ("registrations/registration", "niss"),
        ("registrations/registration", "niss__startswith"),
        ("registrations/registration", "niss__in"),
        ("registrations/person", "niss"),
        ("registrations/person", "pk"),
        ("registrations/person", "pk__startswith"),
        ("registrations/dimonaperiod", "niss__exact"),
        ("registrations/selfemployedperiod", "niss"),
        ("registrations/limosadeclaration", "niss"),
        ("history/historyevent", "registration__niss"),
        ("history/historyevent", "registration__niss__startswith"),
        ("history/historyevent", "data__niss"),
    ],
)
def test_a_list_refuses_to_filter_on_a_person_identifier_in_the_url(viewer, niss, changelist, lookup):
    response = logged_in(viewer).get(f"{ADMIN}{changelist}/?{lookup}={niss[:6] if 'start' in lookup else niss}")
    assert response.status_code == 400
    assert niss.encode() not in response.content


@pytest.mark.parametrize(
    "changelist",
    [
        "registrations/registration",
        "registrations/person",
        "registrations/dimonaperiod",
        "registrations/selfemployedperiod",
        "registrations/limosadeclaration",
        "history/historyevent",
    ],
)
@pytest.mark.parametrize("written", ["{}", "{0[0]}{0[1]}.{0[2]}{0[3]}.{0[4]}{0[5]}-{0[6]}{0[7]}{0[8]}.{0[9]}{0[10]}"])
def test_a_niss_in_the_search_box_is_refused_and_not_echoed(viewer, niss, changelist, written):
    http = logged_in(viewer)
    response = http.get(f"{ADMIN}{changelist}/", {"q": written.format(niss), "o": "1"})
    assert response.status_code == 302
    assert re.sub(r"\D", "", niss) not in re.sub(r"\D", "", response["Location"].split("?")[-1] + "x")
    landing = http.get(response["Location"])
    assert any("use the person search" in str(message) for message in landing.context["messages"])
    assert landing.context["cl"].query == ""  # not echoed in the search box or page links


def test_an_ordinary_search_still_works(viewer):
    registration = make_registration()
    listing = logged_in(viewer).get(f"{ADMIN}registrations/registration/", {"q": str(registration.pk)})
    assert [r.pk for r in listing.context["cl"].result_list] == [registration.pk]


def hrefs(response: Any) -> list[str]:
    return re.findall(r'(?:href|action)="([^"]*)"', response.content.decode())


def test_a_persons_pages_are_reached_by_an_opaque_key(administrator, niss):
    http = logged_in(administrator)
    listing = http.get(f"{ADMIN}registrations/person/")
    assert not [url for url in hrefs(listing) if niss in url]
    [change] = [url for url in hrefs(listing) if url.endswith("/change/")]
    page = http.get(change)
    assert page.status_code == 200
    assert page.context["original"].niss == niss
    links = hrefs(page)
    assert not [url for url in links if niss in url]
    history = next(url for url in links if url.endswith("/history/"))
    delete = next(url for url in links if url.endswith("/delete/"))
    assert http.get(history).status_code == 200
    confirm = http.get(delete)
    assert confirm.status_code == 200
    assert not [url for url in hrefs(confirm) if niss in url]


@pytest.mark.parametrize("suffix", ["change/", "history/", "delete/", ""])
def test_a_persons_page_with_the_niss_in_the_url_does_not_exist(administrator, niss, suffix):
    response = logged_in(administrator).get(f"{ADMIN}registrations/person/{niss}/{suffix}")
    assert response.status_code == 404


def test_saving_a_person_redirects_and_logs_without_the_niss(administrator, niss):
    http = logged_in(administrator)
    change = reverse("admin:registrations_person_change", args=[niss])
    assert niss not in change
    saved = http.post(
        change, {"niss": niss, "given_name": "Anna", "family_name": "Peeters", "birth_date": "", "_continue": "1"}
    )
    assert saved.status_code == 302
    assert niss not in saved["Location"]
    assert Person.objects.get(niss=niss).given_name == "Anna"
    entry = LogEntry.objects.get(object_id=niss)
    assert niss not in (entry.get_admin_url() or "")
    home = http.get(ADMIN)
    assert not [url for url in hrefs(home) if niss in url]


def test_adding_a_person_redirects_without_the_niss(administrator):
    number = make_niss()
    added = logged_in(administrator).post(
        f"{ADMIN}registrations/person/add/",
        {"niss": number, "given_name": "Bo", "family_name": "Claes", "birth_date": "", "_continue": "1"},
    )
    assert added.status_code == 302
    assert number not in added["Location"]
    assert Person.objects.filter(niss=number).exists()


def test_the_key_reveals_nothing_without_the_secret(settings):
    first, second = make_niss(), make_niss()
    key = person_url_key(first)
    assert first not in key
    assert key != person_url_key(second)
    assert key == person_url_key(first)  # one key per person: the admin log's links stay valid
    assert niss_from_person_url_key(key) == first
    assert niss_from_person_url_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    with override_settings(SECRET_KEY="another-secret-entirely"):
        assert niss_from_person_url_key(key) is None


def test_the_history_list_still_filters_on_what_it_offers(viewer):
    registration = make_registration()
    listing = logged_in(viewer).get(f"{ADMIN}history/historyevent/", {"q": str(registration.pk)})
    assert listing.status_code == 200
    assert {event.registration_id for event in listing.context["cl"].result_list} == {registration.pk}
    assert HistoryEvent.objects.filter(registration=registration).exists()


@pytest.fixture
def niss_in_other_fields() -> str:
    """A registration whose deduplication key, submitted SOAP body and history hold its NISS."""
    number = make_niss()
    registration = make_registration(
        niss=number, dedup_key=f"2026-11-26|W1|0123456749|{number}", submitted={"INSS": number}
    )
    history_record_many(
        [
            NewEvent(
                registration_id=registration.pk,
                event_type=EventType.REVALIDATED,
                actor="client:test",
                channel=registration.channel,
                data={"INSS": number},
            )
        ]
    )
    return number


@pytest.mark.parametrize(
    ("changelist", "lookup"),
    [
        ("registrations/registration", "dedup_key__contains"),
        ("registrations/registration", "dedup_key__endswith"),
        ("registrations/registration", "submitted__INSS"),
        ("registrations/registration", "submitted__inss"),
        ("registrations/registration", "submitted__icontains"),
        ("registrations/registration", "NISS"),
        ("history/historyevent", "data__icontains"),
        ("history/historyevent", "data__INSS"),
        ("history/historyevent", "registration__dedup_key__contains"),
        ("history/purgerecord", "actor__contains"),
    ],
)
def test_a_list_refuses_every_lookup_its_sidebar_does_not_offer(viewer, niss_in_other_fields, changelist, lookup):
    response = logged_in(viewer).get(f"{ADMIN}{changelist}/?{lookup}={niss_in_other_fields}")
    assert response.status_code == 400
    assert niss_in_other_fields.encode() not in response.content


def test_every_console_list_is_guarded():
    project_admins = [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in {"registrations", "history", "rest_gateway", "soap_gateway"}
    ]
    assert project_admins
    assert all(isinstance(model_admin, PersonIdentifierGuardMixin) for model_admin in project_admins)


# Fields that hold a NISS under another name: none may be searched through `?q=`.
NISS_HOLDING_FIELDS = {"niss", "dedup_key", "submitted", "data"}


def test_no_list_searches_a_field_holding_a_niss(rf):
    for model_admin in admin.site._registry.values():
        fields = {term.lstrip("=^@").split("__")[-1] for term in model_admin.get_search_fields(rf.get("/"))}
        assert not fields & NISS_HOLDING_FIELDS, type(model_admin).__name__


def sidebar_links(response: Any) -> list[str]:
    sidebar = response.content.decode().partition('id="changelist-filter"')[2].partition("</nav>")[0]
    return [html.unescape(url) for url in re.findall(r'href="(\?[^"]*)"', sidebar)]


@pytest.mark.parametrize(
    "changelist",
    [
        "registrations/registration",
        "registrations/client",
        "registrations/enterprise",
        "registrations/dimonaperiod",
        "registrations/declarationofworks",
        "history/historyevent",
    ],
)
def test_every_filter_the_sidebar_offers_still_works(administrator, niss, changelist):
    make_registration(sender=make_client(), legal_hold=True)
    http = logged_in(administrator)
    url = f"{ADMIN}{changelist}/"
    links = sidebar_links(http.get(url))
    assert any(link != "?" for link in links)
    for link in links:
        response = http.get(url + link)
        assert response.status_code == 200, link
        assert not response.context["cl"].ignored_filters, link


@pytest.mark.parametrize(
    "register", ["registration", "person", "dimonaperiod", "selfemployedperiod", "limosadeclaration"]
)
def test_the_person_search_key_still_filters_the_list(viewer, niss, register):
    make_registration()
    http = logged_in(viewer)
    found = http.post(f"{ADMIN}registrations/{register}/person/", {"niss": niss})
    assert found.status_code == 302
    assert niss not in found["Location"]
    listing = http.get(found["Location"])
    assert listing.status_code == 200
    assert [row.niss for row in listing.context["cl"].result_list] == [niss]
    for link in sidebar_links(listing):  # the sidebar's other choices keep working alongside
        assert http.get(f"{ADMIN}registrations/{register}/{link}").status_code == 200, link


@pytest.mark.parametrize(
    ("url", "lookup"),
    [
        ("/admin/auth/user/", "password__startswith=pbkdf2_sha256%24"),
        ("/admin/auth/user/", "email__contains=a"),
        ("/admin/auth/group/", "name__startswith=a"),
        ("/admin/axes/accessattempt/", "username__startswith=a"),
    ],
)
def test_the_lists_of_users_groups_and_lockouts_refuse_lookups_their_sidebar_does_not_offer(db, url, lookup):
    superuser = User.objects.create_superuser("root-operator", password="a-long-enough-password")
    http = logged_in(superuser)
    assert http.get(url).status_code == 200
    assert http.get(f"{url}?{lookup}").status_code == 400
    assert http.get(f"{url}?is_active__exact=1" if "user" in url else url).status_code == 200


# --- the registration, workplace and person pages (issue 17) -------------------------------------
def test_the_registration_workplace_and_person_pages_link_to_each_other_without_a_niss(viewer, niss):
    http = logged_in(viewer)
    registration = make_registration(niss=niss, workplace_id=Registration.objects.get(niss=niss).workplace_id)
    change = http.get(reverse("admin:registrations_registration_change", args=[registration.pk]))
    person = reverse("admin:registrations_registration_person_page", args=[niss])
    workplace = reverse("admin:registrations_registration_workplace", args=[registration.workplace_id])
    assert niss not in person
    assert {person, workplace} <= set(hrefs(change))
    for page in (change, http.get(person), http.get(workplace)):
        assert page.status_code == 200
        assert niss in page.content.decode()  # shown to the operator, in the page only
        assert not [url for url in hrefs(page) if niss in url]


def test_the_person_search_reaches_the_person_page_by_post_and_a_key(viewer, niss):
    found = logged_in(viewer).post(f"{ADMIN}registrations/registration/person/", {"niss": niss, "open": "page"})
    assert found.status_code == 302
    assert niss not in found["Location"]
    assert found["Location"] == reverse("admin:registrations_registration_person_page", args=[niss])


@pytest.mark.parametrize("written", ["{}", "{0[0]}{0[1]}.{0[2]}{0[3]}.{0[4]}{0[5]}-{0[6]}{0[7]}{0[8]}.{0[9]}{0[10]}"])
def test_a_person_page_with_a_niss_in_the_url_does_not_exist_nor_redirects(viewer, niss, written):
    response = logged_in(viewer).get(f"{ADMIN}registrations/registration/person/{written.format(niss)}/")
    assert response.status_code == 404
    assert niss.encode() not in response.content
