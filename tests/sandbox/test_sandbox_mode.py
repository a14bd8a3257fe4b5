"""Sandbox mode (issue 16, item 5): the self-service page, the per-client clock offset,
`manage.py issue_token`; none of it exists when sandbox mode is off (the default)."""

import io
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.test import Client as DjangoClient
from django.utils import timezone

from registrations.domain.exceptions import ItemErrorCode
from registrations.models import Client, ClientRole, Status
from registrations.selectors.clients import caller_for_client
from registrations.selectors.demo_sheet import client_sheet
from registrations.services.clients import ClientRegistrationError, client_set_clock_offset
from registrations.services.presences import (
    CancelInput,
    PresenceInput,
    registration_cancel_batch,
    registration_submit_batch,
)
from tests.factories import make_client, make_enterprise_number, make_niss, make_workplace_id, presence
from tests.operators.conftest import logged_in, staff_in
from tests.operators.test_clients_admin import certificate_pem as ec_certificate_pem
from tests.rest_gateway.conftest import API, Api, event, new_key, public_pem, rest_client, token_for
from tests.test_config import run_settings

pytestmark = pytest.mark.django_db

SIGNUP = "/sandbox/"
ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCTION = "--i-know-this-is-not-production"


@pytest.fixture
def sandbox(settings):
    settings.SANDBOX_MODE = True
    caches[settings.REST_THROTTLE_CACHE].clear()  # sign-ups counted by an earlier test


@pytest.fixture
def administrator(db):
    """Manages clients (migration 0006's group): sets a clock offset in sandbox mode."""
    return staff_in("administrator", "ada")


@pytest.fixture
def demo(tmp_path, settings, django_capture_on_commit_callbacks):
    settings.DEMO_CREDENTIALS_DIR = tmp_path / "demo"
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", NOT_PRODUCTION, stdout=io.StringIO())
    return Client.objects.get(role=ClientRole.ENTERPRISE)


def certificate_pem(name: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def sign_up(http: DjangoClient, **data: object):
    return http.post(SIGNUP, {"name": "Planning Pro", **data})


# --- off: none of it exists ------------------------------------------------------------------


def test_sandbox_mode_is_off_by_default():
    assert django_settings.SANDBOX_MODE is False


def test_off_the_page_does_not_exist(client):
    assert client.get(SIGNUP).status_code == 404
    assert sign_up(client, pem=certificate_pem("x")).status_code == 404
    assert not Client.objects.exists()


def test_off_issue_token_refuses():
    client = make_client()
    with pytest.raises(CommandError, match="sandbox mode only"):
        call_command("issue_token", str(client.pk), stdout=io.StringIO(), stderr=io.StringIO())


def test_off_no_clock_offset_can_be_set_and_a_stored_one_is_ignored():
    client = make_client()
    with pytest.raises(ClientRegistrationError, match="sandbox mode only"):
        client_set_clock_offset(client=client, offset=timedelta(days=1))
    Client.objects.filter(pk=client.pk).update(clock_offset=timedelta(days=1))  # left from a sandbox
    client.refresh_from_db()
    caller = caller_for_client(client)

    [result] = registration_submit_batch(items=[presence(caller=caller)], caller=caller, channel="WS")

    assert result.errors == []  # today is the real today: the offset is ignored
    assert result.registration is not None
    assert result.registration.registration_date == timezone.localdate()


def test_off_the_console_shows_no_clock_offset(administrator):
    client = make_client()
    page = logged_in(administrator).get(f"/admin/registrations/client/{client.pk}/change/")
    assert page.status_code == 200
    assert b'name="clock_offset"' not in page.content


# --- the self-service page -----------------------------------------------------------------


def test_the_page_asks_for_a_key_behind_csrf(sandbox):
    http = DjangoClient(enforce_csrf_checks=True)
    page = http.get(SIGNUP)
    assert page.status_code == 200
    assert b"csrfmiddlewaretoken" in page.content
    assert http.post(SIGNUP, {"name": "x", "pem": certificate_pem("x")}).status_code == 403
    assert not Client.objects.exists()


def test_a_certificate_gets_a_client_of_the_demo_enterprise_that_validates_cleanly(
    sandbox, demo, client, django_capture_on_commit_callbacks
):
    pem = certificate_pem("planning-pro")
    response = sign_up(client, pem=pem)

    assert response.status_code == 201
    created = Client.objects.get(name="Planning Pro (sandbox)")
    assert (created.role, created.enterprise_number, created.is_active) == (
        ClientRole.ENTERPRISE,
        demo.enterprise_number,
        True,
    )
    assert created.certificate_pem.strip() == pem.strip()
    assert "BEGIN PUBLIC KEY" in created.public_key_pem  # the certificate's key signs REST assertions too
    html = response.content.decode()
    assert str(created.pk) in html
    # The page shows the client's own sheet, and what it says validates cleanly does.
    clean = client_sheet(created).clean
    assert all(combination.key in html for combination in clean)
    item = next(c.steps[0].item for c in clean if c.steps[0].channel == "soap")
    assert item["RegistrationDate"] == "today"
    caller = caller_for_client(created)
    with django_capture_on_commit_callbacks(execute=True):
        [result] = registration_submit_batch(
            items=[presence(workplace_id=item["WorkPlaceId"], niss=item["INSS"], enterprise_number=item["CompanyID"])],
            caller=caller,
            channel="WS",
        )
    assert result.registration is not None
    result.registration.refresh_from_db()
    assert (result.registration.status, result.registration.remarks) == (Status.VALIDATED, [])


def test_a_public_key_gets_a_rest_client(sandbox, demo, client):
    key = public_pem(new_key())
    assert sign_up(client, pem_file=io.BytesIO(key.encode())).status_code == 201
    created = Client.objects.get(name="Planning Pro (sandbox)")
    assert (created.certificate_pem, created.public_key_pem.strip()) == ("", key.strip())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pem": "hello"}, "paste a PEM certificate"),
        ({"pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}, "not a readable PEM certificate"),
        ({"pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}, "not a readable PEM public key"),
        ({"pem": ec_certificate_pem("elliptic")}, "must be an RSA key"),
        ({}, "Paste the PEM or upload it"),
        ({"name": "", "pem": "x"}, "This field is required"),
    ],
)
def test_a_bad_sign_up_is_refused_with_its_reason_and_stores_nothing(sandbox, demo, client, data, message):
    before = Client.objects.count()
    response = client.post(SIGNUP, {"name": "Planning Pro", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Client.objects.count() == before


def test_a_certificate_registers_once(sandbox, demo, client):
    pem = certificate_pem("twice")
    assert sign_up(client, pem=pem).status_code == 201
    response = sign_up(client, pem=pem)
    assert response.status_code == 400
    assert "already registered" in response.content.decode()


def test_without_a_demo_there_is_nothing_to_bind_to(sandbox, client, tmp_path, settings):
    settings.DEMO_CREDENTIALS_DIR = tmp_path / "no-demo"
    response = sign_up(client, pem=certificate_pem("early"))
    assert response.status_code == 400
    assert "load the demo first" in response.content.decode()
    assert not Client.objects.exists()


def test_sign_ups_are_rate_limited_per_address(sandbox, demo, settings):
    settings.SANDBOX_SIGNUP_RATE = "2/hour"
    here, elsewhere = DjangoClient(REMOTE_ADDR="192.0.2.1"), DjangoClient(REMOTE_ADDR="192.0.2.2")
    assert [sign_up(here, pem=certificate_pem(f"n{i}")).status_code for i in range(2)] == [201, 201]
    before = Client.objects.count()

    refused = sign_up(here, pem=certificate_pem("third"))

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert Client.objects.count() == before
    assert sign_up(elsewhere, pem=certificate_pem("other")).status_code == 201


# --- the per-client clock offset -------------------------------------------------------------


def test_an_administrator_sets_a_clients_clock_offset_in_the_console(sandbox, administrator):
    client = make_client()
    http = logged_in(administrator)
    url = f"/admin/registrations/client/{client.pk}/change/"
    assert b'name="clock_offset"' in http.get(url).content
    form = {
        "name": client.name,
        "is_active": "on",
        "rate_limit": "",
        "mandates-TOTAL_FORMS": "0",
        "mandates-INITIAL_FORMS": "0",
    }
    assert http.post(url, {**form, "clock_offset": "1 00:00:00"}).status_code == 302
    client.refresh_from_db()
    assert client.clock_offset == timedelta(days=1)

    too_far = http.post(url, {**form, "clock_offset": "400 00:00:00"})
    assert too_far.status_code == 200
    assert b"at most a year" in too_far.content
    client.refresh_from_db()
    assert client.clock_offset == timedelta(days=1)


def _caller_a_day_ahead():
    client = make_client()
    client_set_clock_offset(client=client, offset=timedelta(days=1))
    return caller_for_client(client)


def test_a_day_ahead_today_is_tomorrow_and_the_day_after_is_allowed(sandbox):
    caller = _caller_a_day_ahead()
    today = timezone.localdate()
    items = [presence(caller=caller, registration_date=today + timedelta(days=days)) for days in (0, 1, 2)]

    results = registration_submit_batch(items=items, caller=caller, channel="WS")

    assert [[int(e.code) for e in result.errors] for result in results] == [
        [ItemErrorCode.REGISTRATION_DATE_NOT_ALLOWED],  # the real today is yesterday for this client
        [],
        [],
    ]
    omitted_date = PresenceInput(
        workplace_id=make_workplace_id(), niss=make_niss(), enterprise_number=caller.enterprise_number
    )
    omitted = registration_submit_batch(items=[omitted_date], caller=caller, channel="WS")
    assert omitted[0].registration is not None
    assert omitted[0].registration.registration_date == today + timedelta(days=1)
    assert omitted[0].registration.created_at <= timezone.now()  # stored on the real clock


def test_a_day_ahead_todays_registration_is_too_late_to_cancel(sandbox):
    caller = _caller_a_day_ahead()
    client = Client.objects.get(pk=caller.client_id)
    on_time = caller_for_client(make_client(enterprise_number=client.enterprise_number))
    [registered] = registration_submit_batch(items=[presence(caller=on_time)], caller=on_time, channel="WS")
    assert registered.registration is not None
    cancel = [CancelInput(registered.registration.pk, "PLANNING")]

    [late] = registration_cancel_batch(items=cancel, caller=caller, channel="WS")
    assert [int(error.code) for error in late.errors] == [ItemErrorCode.TOO_LATE_TO_CANCEL]

    [cancelled] = registration_cancel_batch(items=cancel, caller=on_time, channel="WS")
    assert cancelled.errors == []


def test_a_quarter_of_an_hour_ahead_a_real_time_event_is_too_late(sandbox, client):
    key = new_key()
    rest = rest_client(key)
    client_set_clock_offset(client=rest, offset=timedelta(minutes=15))
    api = Api(client, token_for(client, rest, key))
    employer = rest.enterprise_number

    late = api.register(event(enterprise_number=employer)).json()["items"][0]
    ahead = api.register(event(enterprise_number=employer, at=timezone.now() + timedelta(minutes=15)))

    codes = [error["errorCode"] for error in late["notCreatedPresenceRegistration"]["errorList"]]
    assert codes == [ItemErrorCode.EVENT_TOO_LATE.value]
    assert "createdPresenceRegistration" in ahead.json()["items"][0]


def test_off_a_stored_offset_moves_no_real_time_rule(client, settings):
    key = new_key()
    rest = rest_client(key)
    Client.objects.filter(pk=rest.pk).update(clock_offset=timedelta(minutes=15))
    api = Api(client, token_for(client, rest, key))
    answer = api.register(event(enterprise_number=rest.enterprise_number)).json()["items"][0]
    assert "createdPresenceRegistration" in answer


# --- issue_token -----------------------------------------------------------------------------


def test_issue_token_prints_a_bearer_token_the_api_takes(sandbox, client):
    rest = Client.objects.create(
        name="vendor", enterprise_number=make_enterprise_number(), role=ClientRole.PROFESSIONAL
    )  # no key needed: the command is the sandbox's shortcut
    out, err = io.StringIO(), io.StringIO()

    call_command("issue_token", str(rest.pk), stdout=out, stderr=err)

    token = out.getvalue().strip()
    assert "scope:presenceregistration:professional" in err.getvalue()
    assert client.get(API + "/requestLogs", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


@pytest.mark.parametrize("which", ["unknown", "inactive", "not a uuid"])
def test_issue_token_refuses_what_is_no_active_client(sandbox, which):
    client = make_client()
    Client.objects.filter(pk=client.pk).update(is_active=False)
    argument = {"unknown": "00000000-0000-0000-0000-000000000001", "inactive": str(client.pk)}.get(which, which)
    with pytest.raises(CommandError):
        call_command("issue_token", argument, stdout=io.StringIO(), stderr=io.StringIO())


# --- Swagger UI: a pasted bearer token, no client secret ---------------------------------------


def test_the_documentation_page_takes_a_pasted_bearer_token(client):
    script = client.get(API + "/doc", {"script": ""}).content.decode()
    assert "doc/openapi.json" in script
    schema = client.get(API + "/doc/openapi.json")
    assert schema.status_code == 200
    described = schema.json()
    assert described["components"]["securitySchemes"] == {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": described["components"]["securitySchemes"]["bearer"]["description"],
        }
    }
    assert "clientCredentials" not in schema.content.decode()
    register = described["paths"]["/presenceRegistrations/registerInBulk"]["post"]
    assert register["security"] == [{"bearer": []}]
    assert "scope:presenceregistration:enterprise" in register["description"]
    # The schema for code generators keeps the OAuth description (tests/rest_gateway/test_openapi.py).
    assert "oauth2" in client.get(API + "/openapi.json").json()["components"]["securitySchemes"]


# --- production and `make serve` refuse it; `make run` turns it on ----------------------------


def test_production_refuses_sandbox_mode_unless_allowed():
    refused = run_settings({"SANDBOX_MODE": "1"})
    assert refused.returncode != 0
    assert "SANDBOX_MODE must be off" in refused.stderr
    assert run_settings({"SANDBOX_MODE": "1", "ALLOW_SANDBOX_IN_PRODUCTION": "1"}).returncode == 0


@pytest.mark.parametrize(("allowed", "refused"), [("", True), ("yes", False)])
def test_make_serve_refuses_sandbox_mode_unless_allowed(allowed, refused):
    environment = {key: value for key, value in os.environ.items() if "SANDBOX" not in key}
    environment |= {
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "DJANGO_SECRET_KEY": "x",
        "NISS_HASH_KEY": "y",
        "DJANGO_ALLOWED_HOSTS": "presence.example.org",
        "REST_CACHE_URL": "redis://127.0.0.1:1/1",
        "BIN": "/nonexistent",  # nothing may be started
        "SANDBOX_MODE": "On",
        "ALLOW_SANDBOX_IN_PRODUCTION": allowed,
    }
    completed = subprocess.run(
        ["bash", str(ROOT / "scripts" / "serve.sh")], env=environment, capture_output=True, text=True, timeout=30
    )
    assert completed.returncode != 0  # /nonexistent/python either way
    assert ("SANDBOX_MODE is on" in completed.stderr) is refused


def test_make_run_turns_it_on():
    recipe = (ROOT / "Makefile").read_text().replace("\\\n", "").split("\nrun:", 1)[1].split("\n\n", 1)[0]
    commands = [line for line in recipe.splitlines() if line.startswith("\t") and "manage.py" in line]
    assert commands
    assert all("SANDBOX_MODE=1" in line for line in commands)
