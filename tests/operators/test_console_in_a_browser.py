"""The console in a real headless Chromium, in each of its four languages: a registration's
page, a workplace's page and the dashboard render with their remark labels, timeline and
headings in that language, and the browser logs no console error (a script failing, a
Content-Security-Policy violation, a missing file).

Screenshots go to var/screenshots/, and to docs/img/ for docs/operators.md when
DOCS_SCREENSHOTS=1 (the pattern of test_dashboard.py). Skipped only where Debian's chromium
is missing; .ci/run installs it.
"""

import html
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from PIL import Image

from registrations.domain.remarks import REMARKS
from tests.operators.console_world import ConsoleWorld, build_console_world, clear_of_midnight
from tests.operators.test_dashboard import CHROMIUM, busy_fortnight, chromium, console_errors, screenshot

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")

# What each page must say in each language: its heading, and words the timeline and the
# workplace page use (from the committed catalogues, so a missing translation fails here).
WORDS = {
    "nl": {
        "header": "Aanwezigheidsregistratie — console voor operatoren",
        "history": "Historiek van deze registratie",
        "cancelled": "geannuleerd",
        "reason": "reden: vakantie",
        "on_site": "Vandaag op de werkplaats",
        "dashboard": "Dashboard",
        "by_day": "Registraties per dag",
    },
    "fr": {
        "header": "Enregistrement de présence — console des opérateurs",
        "history": "Historique de cet enregistrement",
        "cancelled": "annulé",
        "reason": "motif : congé",
        "on_site": "Présents sur le chantier aujourd'hui",
        "dashboard": "Tableau de bord",
        "by_day": "Enregistrements par jour",
    },
    "de": {
        "header": "Anwesenheitsregistrierung — Operator-Konsole",
        "history": "Verlauf dieser Registrierung",
        "cancelled": "storniert",
        "reason": "Grund: Urlaub",
        "on_site": "Heute auf der Baustelle",
        "dashboard": "Übersicht",
        "by_day": "Registrierungen pro Tag",
    },
    "en": {
        "header": "PresenceRegistration — operators' console",
        "history": "History of this registration",
        "cancelled": "cancelled",
        "reason": "reason: holiday",
        "on_site": "On site today",
        "dashboard": "Dashboard",
        "by_day": "Registrations by day",
    },
}
LANGUAGES = list(WORDS)


@pytest.fixture
def world(settings, db) -> ConsoleWorld:
    settings.ROOT_URLCONF = "tests.operators.browser_urls"
    with clear_of_midnight():
        return build_console_world()


def rendered(live_server, profile: Path, language: str, path: str) -> str:
    """The page's DOM after the browser ran it, as read: entities decoded, tags dropped."""
    url = f"{live_server.url}/__browser_login__/cor/?{urlencode({'next': path, 'lang': language})}"
    dom = chromium(url, profile, "--dump-dom", "--virtual-time-budget=3000")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_errors(dom.stderr) == []
    assert f'<html lang="{language}"' in dom.stdout
    return dom.stdout


def read(dom: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


def take(live_server, profile: Path, language: str, path: str, name: str, size: str = "1280,900") -> None:
    with Image.open(screenshot(live_server, profile, "cor", path, name, language=language, size=size)) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20  # not a blank page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_registrations_page_reads_in_each_language(live_server, tmp_path, corrector, world, language):
    path = f"/admin/registrations/registration/{world.cancelled.pk}/change/"
    dom = rendered(live_server, tmp_path / "profile", language, path)
    text, words = read(dom), WORDS[language]
    assert words["header"] in text
    assert "Django" not in text.partition(words["header"])[0]
    for number in world.cancelled.remarks:
        assert f"{number}: {REMARKS[number].label(language)}" in text
    timeline = read(dom.partition('id="timeline"')[2].partition(">")[2])
    assert timeline.startswith(words["history"])
    assert re.findall(r'data-event="([a-z_]+)"', dom) == ["created", "validated", "cancelled"]
    assert words["cancelled"] in timeline
    assert words["reason"] in timeline
    assert dom.count('<details class="raw">') == 4  # three events and the payload as submitted
    take(live_server, tmp_path / "shot", language, path, f"registration-{language}.png", "1280,1500")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_workplaces_page_reads_in_each_language(live_server, tmp_path, corrector, world, language):
    path = f"/admin/registrations/registration/workplace/{world.workplace_id}/"
    dom = rendered(live_server, tmp_path / "profile", language, path)
    text, words = read(dom), WORDS[language]
    assert words["on_site"] in text
    assert words["by_day"] in text
    on_site = read(dom.partition('id="on-site"')[2].partition("</table>")[0])
    assert world.story.niss in on_site
    assert world.checked_in.niss in on_site
    assert world.checked_out.niss not in on_site
    remarks = read(dom.partition('id="workplace-remarks"')[2].partition("</table>")[0])
    assert f"16: {REMARKS[16].label(language)}" in remarks
    take(live_server, tmp_path / "shot", language, path, f"workplace-{language}.png", "1280,1400")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_dashboard_reads_in_each_language(live_server, settings, tmp_path, corrector, language):
    settings.ROOT_URLCONF = "tests.operators.browser_urls"
    busy_fortnight()
    dom = rendered(live_server, tmp_path / "profile", language, "/admin/dashboard/")
    text = read(dom)
    assert f"<h1>{WORDS[language]['dashboard']}</h1>" in dom
    assert dom.count('<svg class="chart"') == 3
    for number in (1, 3):  # the remarks busy_fortnight's failures carry, labelled in full
        assert f"{number}: {REMARKS[number].label(language)}" in text
    assert re.search(r'id="lag-p50">\d+(?:[.,]\d)? (?:ms|s)<', dom)
    take(live_server, tmp_path / "shot", language, "/admin/dashboard/", f"dashboard-{language}.png")
