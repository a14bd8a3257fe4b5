"""Integrator clients in the admin: register, rotate or revoke keys, rate limit, last use."""

import datetime
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone

from registrations.models import Client
from registrations.services.clients import certificate_fingerprint, client_mark_used, client_update
from rest_gateway.auth import SCOPE_ENTERPRISE, access_token_issue
from tests.factories import make_client, make_enterprise_number, make_niss, make_workplace_id
from tests.operators.conftest import logged_in
from tests.rest_gateway.conftest import new_key, token_for
from tests.rest_gateway.conftest import rest_client as make_rest_client
from tests.soap_gateway.conftest import (
    ENDPOINT,
    TimestampedSignature,
    action,
    envelope,
    make_credentials,
    register,
    register_item,
    register_request,
    sign,
)

pytestmark = pytest.mark.django_db


def certificate_pem(name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def public_key_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_an_administrator_registers_a_client_with_its_certificate(administrator):
    pem = certificate_pem("bouw")
    response = logged_in(administrator).post(
        "/admin/registrations/client/add/",
        {
            "name": "Bouw planning",
            "enterprise_number": make_enterprise_number(),
            "role": "enterprise",
            "certificate_pem": pem,
            "public_key_pem": "",
            "is_active": "on",
            "rate_limit": "120/minute",
            "mandates-TOTAL_FORMS": "0",
            "mandates-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get(name="Bouw planning")
    assert client.certificate_fingerprint == certificate_fingerprint(pem)
    assert client.rate_limit == "120/minute"


def test_rotating_then_revoking_keeps_the_fingerprint_in_step(administrator):
    client = make_client()
    http = logged_in(administrator)
    url = f"/admin/registrations/client/{client.pk}/keys/"
    new_certificate, new_key = certificate_pem("rotated"), public_key_pem()
    assert http.post(url, {"certificate_pem": new_certificate, "public_key_pem": new_key}).status_code == 302
    client.refresh_from_db()
    assert client.certificate_fingerprint == certificate_fingerprint(new_certificate)
    assert client.public_key_pem.strip() == new_key.strip()

    assert http.post(url, {"revoke_certificate": "on", "revoke_public_key": "on"}).status_code == 302
    client.refresh_from_db()
    assert (client.certificate_fingerprint, client.certificate_pem, client.public_key_pem) == (None, "", "")


def test_a_bad_key_is_refused_with_a_message(administrator):
    client = make_client()
    response = logged_in(administrator).post(
        f"/admin/registrations/client/{client.pk}/keys/", {"public_key_pem": "not a key"}
    )
    assert response.status_code == 200
    assert b"not a PEM public key" in response.content


def test_a_rate_limit_must_read_like_one(administrator):
    client = make_client()
    response = logged_in(administrator).post(
        f"/admin/registrations/client/{client.pk}/change/",
        {
            "name": client.name,
            "is_active": "on",
            "rate_limit": "lots",
            "mandates-TOTAL_FORMS": "0",
            "mandates-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    client.refresh_from_db()
    assert client.rate_limit == ""


def test_a_corrector_or_viewer_cannot_touch_keys(corrector, viewer):
    client = make_client()
    for user in (corrector, viewer):
        http = logged_in(user)
        response = http.post(f"/admin/registrations/client/{client.pk}/keys/", {"revoke_public_key": "on"})
        assert response.status_code == 403
    page = logged_in(viewer).get(f"/admin/registrations/client/{client.pk}/change/")
    assert page.status_code == 200
    assert b"last used" in page.content.lower()


def test_last_use_is_written_at_most_once_per_five_minutes():
    client = make_client()
    start = timezone.now()
    assert client_mark_used(client=client, now=start)
    assert not client_mark_used(client=client, now=start + timedelta(minutes=4))
    other_copy = Client.objects.get(pk=client.pk)
    assert client_mark_used(client=other_copy, now=start + timedelta(minutes=6))
    client.refresh_from_db()
    assert client.last_used_at == start + timedelta(minutes=6)


def test_last_use_follows_rest_token_requests_and_soap_calls(client, tmp_path):
    key = new_key()
    rest = make_rest_client(key)
    assert rest.last_used_at is None
    token_for(client, rest, key)
    rest.refresh_from_db()
    assert rest.last_used_at is not None

    credentials = make_credentials(tmp_path, "last-use")
    soap = register(credentials)
    item = register_item(niss=make_niss(), company=soap.enterprise_number, workplace=make_workplace_id())
    body = sign(envelope(register_request([item])), TimestampedSignature(credentials))
    response = client.generic(
        "POST",
        ENDPOINT,
        data=body,
        content_type="text/xml; charset=utf-8",
        HTTP_SOAPACTION=action("registerPresences"),
    )
    assert response.status_code == 200
    soap.refresh_from_db()
    assert soap.last_used_at is not None


def test_a_clients_own_rate_limit_is_applied_to_it_alone(client):
    limited, other = make_client(), make_client()
    client_update(client=limited, name=limited.name, is_active=True, rate_limit="2/minute")
    limited.refresh_from_db()

    def get(who):
        token, _ = access_token_issue(client=who, scopes=[SCOPE_ENTERPRISE])
        return client.get("/REST/presenceRegistration/v1/refData/remarks", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert [get(limited).status_code for _ in range(3)] == [200, 200, 429]
    assert get(other).status_code == 200
