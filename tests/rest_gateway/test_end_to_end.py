"""End to end over HTTP on PostgreSQL: a client registered with `register_client
--public-key` signs an assertion, gets a token, registers IN and OUT, reads them back,
searches, reads the performance, cancels and reads the history."""

from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from tests.factories import make_enterprise_number, make_niss, make_workplace_id
from tests.rest_gateway.conftest import API, TOKEN_PATH, assertion, event, public_pem, token_form

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _register_client(tmp_path, key, enterprise_number):
    pem = tmp_path / "client.pub.pem"
    pem.write_text(public_pem(key))
    out = StringIO()
    call_command(
        "register_client",
        "--name",
        "Badge tool",
        "--enterprise-number",
        enterprise_number,
        "--role",
        "enterprise",
        "--public-key",
        str(pem),
        stdout=out,
    )
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def http():
    with requests.Session() as session:  # its connections closed even when the test fails
        yield session


def test_a_client_registers_reads_searches_cancels_and_reads_history_over_http(live_server, tmp_path, key, http):
    enterprise = make_enterprise_number()
    client_id = _register_client(tmp_path, key, enterprise)
    token_url = live_server.url + TOKEN_PATH
    token = http.post(
        token_url,
        data=token_form(assertion(key, client_id, aud=token_url)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    base = live_server.url + API

    niss, place = make_niss(), make_workplace_id()
    started = timezone.now() - timedelta(minutes=8)
    items = [
        event(ssin=niss, kind="in", at=started, enterprise_number=enterprise, workplace=place),
        event(ssin=niss, kind="out", at=started + timedelta(minutes=6), enterprise_number=enterprise, workplace=place),
    ]
    registered = http.post(f"{base}/presenceRegistrations/registerInBulk", json={"items": items}, timeout=10)
    assert registered.status_code == 200, registered.text
    in_id, out_id = (item["createdPresenceRegistration"]["id"] for item in registered.json()["items"])

    shown = http.get(f"{base}/presenceRegistrations/{out_id}", timeout=10).json()
    assert (shown["type"], shown["ssin"], shown["contractualRelationshipReference"]) == ("out", niss, place)

    today = timezone.localdate().isoformat()
    search = {"criteria": {"registrationDate": {"startDate": today, "endDate": today}, "ssin": niss}}
    found = http.post(f"{base}/presenceRegistrations/search?pageSize=10", json=search, timeout=10).json()
    assert sorted(item["id"] for item in found["items"]) == [in_id, out_id]
    assert found["total"] == 2

    performance = http.get(
        f"{base}/performances",
        params={"startDate": today, "endDate": today, "contractualRelationshipReference": place},
        timeout=10,
    ).json()
    [day] = performance["items"]
    assert (day["workedTime"], day["open"]) == ("PT6M", False)

    cancelled = http.post(
        f"{base}/presenceRegistrations/cancelInBulk", json={"items": [{"id": out_id, "reason": "PLANNING"}]}, timeout=10
    ).json()
    assert cancelled["items"][0]["cancelledPresenceRegistration"]["status"]["code"] == "cancelled"

    history = http.get(f"{base}/presenceRegistrations/{out_id}/history", timeout=10).json()["items"]
    types = [item["type"] for item in history]
    assert types[0] == "registration.created"
    assert types[-1] == "registration.cancelled"

    reopened = http.get(f"{base}/performances", params={"startDate": today, "endDate": today}, timeout=10).json()[
        "items"
    ]
    assert [day["open"] for day in reopened] == [True]  # the IN is open again, never closed for us
