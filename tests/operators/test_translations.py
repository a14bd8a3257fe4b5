"""The operators' console speaks nl, fr, de and en (compiled catalogues are committed)."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.operators.conftest import logged_in

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
