"""The operators' console speaks nl, fr, de and en (compiled catalogues are committed)."""

import gettext
import html
import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from tests.operators.conftest import logged_in, make_registration, post_action

CATALOGUES = sorted(Path(settings.BASE_DIR).glob("*/locale/*/LC_MESSAGES/django.po"))


@pytest.mark.parametrize(
    ("language", "dashboard", "registrations"),
    [
        ("nl", "Dashboard", "Registraties"),
        ("fr", "Tableau de bord", "Enregistrements"),
        ("de", "Übersicht", "Registrierungen"),
        ("en", "Dashboard", "Registrations"),
    ],
)
def test_the_admin_answers_in_the_browsers_language(corrector, language, dashboard, registrations):
    http = logged_in(corrector)
    page = http.get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{dashboard}</h1>" in page
    assert registrations in http.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


def _unescape(text: str) -> str:
    return text.encode().decode("unicode_escape").encode("latin-1").decode()


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: "/".join(path.parts[-5:-2]))
def test_every_message_is_translated_and_compiled(catalogue):
    """Each msgid of the .po has a translation, and the committed .mo says the same."""
    source = catalogue.read_text(encoding="utf-8")
    with catalogue.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    singular = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', source, flags=re.MULTILINE)
    assert len(singular) > 10
    for msgid, msgstr in singular:
        assert msgstr, msgid
        assert compiled.gettext(_unescape(msgid)) == _unescape(msgstr), msgid


# --- the language switch ---------------------------------------------------------------------
SWITCH = re.compile(r'<form id="language-switch" method="post" action="([^"]+)"')


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["nl", "fr", "de", "en"])
def test_the_language_switch_sets_the_consoles_language_and_returns_to_the_page(viewer, language):
    http = logged_in(viewer)
    page = http.get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE="en")
    assert SWITCH.search(page.content.decode()).group(1) == "/i18n/setlang/"
    switched = http.post("/i18n/setlang/", {"language": language, "next": "/admin/dashboard/"})
    assert switched.status_code == 302
    assert switched["Location"] == "/admin/dashboard/"
    # The choice outlives the browser's own preference.
    after = http.get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<html lang="{language}"' in after
    heading = {"nl": "Dashboard", "fr": "Tableau de bord", "de": "Übersicht", "en": "Dashboard"}[language]
    assert f"<h1>{heading}</h1>" in after


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/admin/registrations/registration/"])
def test_every_console_page_offers_the_four_languages(viewer, client, path):
    http = client if "login" in path else logged_in(viewer)
    page = http.get(path).content.decode()
    form = page.partition('id="language-switch"')[2].partition("</form>")[0]
    assert re.findall(r'name="language" value="([a-z]+)"', form) == ["nl", "fr", "de", "en"]
    assert 'name="csrfmiddlewaretoken"' in form
    assert f'name="next" value="{path}"' in form
    assert "<script" not in form  # a plain form: nothing for the Content-Security-Policy to refuse


@pytest.mark.django_db
def test_the_switch_never_leaves_the_site_and_ignores_an_unknown_language(viewer):
    http = logged_in(viewer)
    away = http.post("/i18n/setlang/", {"language": "fr", "next": "https://elsewhere.example/"})
    assert not away["Location"].startswith("https://elsewhere.example")
    http.post("/i18n/setlang/", {"language": "xx", "next": "/admin/"})
    assert '<html lang="fr"' in http.get("/admin/").content.decode()


# --- the service's name ------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "header", "title"),
    [
        ("nl", "Aanwezigheidsregistratie — console voor operatoren", "Console aanwezigheidsregistratie"),
        ("fr", "Enregistrement de présence — console des opérateurs", "Console de l'enregistrement de présence"),
        ("de", "Anwesenheitsregistrierung — Operator-Konsole", "Konsole der Anwesenheitsregistrierung"),
        ("en", "PresenceRegistration — operators' console", "PresenceRegistration console"),
    ],
)
def test_the_header_and_title_name_the_service_in_the_operators_language(viewer, client, language, header, title):
    for http, path in ((logged_in(viewer), "/admin/"), (client, "/admin/login/")):
        page = html.unescape(http.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode())
        assert f'<div id="site-name"><a href="/admin/">{header}</a></div>' in page
        assert re.search(rf"<title>[^<]* \| {re.escape(title)}</title>", page)
        assert "Django" not in page.partition("</header>")[0]


# --- plurals -------------------------------------------------------------------------------------
def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "one", "two"),
    [
        ("en", "1 registration cancelled.", "2 registrations cancelled."),
        ("nl", "1 registratie geannuleerd.", "2 registraties geannuleerd."),
        ("fr", "1 enregistrement annulé.", "2 enregistrements annulés."),
        ("de", "1 Registrierung storniert.", "2 Registrierungen storniert."),
    ],
)
def test_a_cancellation_says_how_many_in_the_right_plural(corrector, language, one, two):
    http = logged_in(corrector)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    rows = [make_registration() for _ in range(3)]
    first = post_action(http, "cancel_selected", [rows[0].pk], apply="1", reason="HOLIDAY")
    assert one in messages_of(http.get(first["Location"]))
    rest = post_action(http, "cancel_selected", [row.pk for row in rows], apply="1", reason="HOLIDAY")
    landing = messages_of(http.get(rest["Location"]))
    assert two in landing
    already = {"en": "1 registration was already cancelled", "nl": "1 registratie was al geannuleerd"}
    if language in already:
        assert any(message.startswith(already[language]) for message in landing)


# --- the catalogues --------------------------------------------------------------------------
CONSOLE_APPS = ["registrations", "history"]


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda path: "/".join(path.parts[-5:-2]))
def test_every_entry_plurals_included_is_translated_not_fuzzy_and_compiled(catalogue):
    po = polib.pofile(str(catalogue))
    mo = {(entry.msgctxt, entry.msgid): entry for entry in polib.mofile(str(catalogue.with_suffix(".mo")))}
    entries = [entry for entry in po if not entry.obsolete]
    assert len(entries) > 10
    assert [entry.msgid for entry in entries if entry.fuzzy] == []
    assert [entry.msgid for entry in entries if not entry.translated()] == []
    for entry in entries:
        compiled = mo[(entry.msgctxt, entry.msgid)]
        assert (compiled.msgstr, compiled.msgstr_plural) == (entry.msgstr, entry.msgstr_plural), entry.msgid
        if entry.msgid_plural:
            assert len(entry.msgstr_plural) == 2, entry.msgid
            assert all(entry.msgstr_plural.values()), entry.msgid


@pytest.mark.parametrize("app", CONSOLE_APPS)
def test_each_app_has_the_three_catalogues(app):
    assert sorted(path.parts[-3] for path in CATALOGUES if path.parts[-5] == app) == ["de", "fr", "nl"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (apt-get install gettext)")
@pytest.mark.parametrize("app", CONSOLE_APPS)
def test_the_catalogues_hold_every_message_of_the_code(app, tmp_path):
    """makemessages, run on a copy of the app, finds no message the committed catalogues
    lack: a new text in the code without its translations fails here."""
    copy = tmp_path / app
    shutil.copytree(Path(settings.BASE_DIR) / app, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    committed = {lang: _msgids(copy / "locale" / lang / "LC_MESSAGES" / "django.po") for lang in ("nl", "fr", "de")}
    previous = Path.cwd()
    try:
        os.chdir(copy)
        call_command("makemessages", locale=["nl", "fr", "de"], no_location=True, no_obsolete=True, verbosity=0)
    finally:
        os.chdir(previous)
    for language, known in committed.items():
        assert _msgids(copy / "locale" / language / "LC_MESSAGES" / "django.po") - known == set(), language


def _msgids(path: Path) -> set[tuple[str, str]]:
    return {(entry.msgid, entry.msgid_plural) for entry in polib.pofile(str(path)) if not entry.obsolete}
