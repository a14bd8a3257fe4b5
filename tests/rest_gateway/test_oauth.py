"""The token endpoint (private_key_jwt client credentials) and Bearer tokens with scopes.

Bad inputs 30 (expired JWT, wrong aud, alg none, unknown key) and the BOLA-adjacent
"a client cannot mint its own token"."""

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.utils import timezone

from registrations.models import ClientRole, Registration
from rest_gateway.models import AccessToken, UsedClientAssertion
from rest_gateway.tasks import purge_expired_credentials
from tests.rest_gateway.conftest import (
    API,
    TOKEN_PATH,
    Api,
    assertion,
    event,
    post_token,
    rest_client,
    token_for,
    token_form,
)

pytestmark = pytest.mark.django_db

BELGIF_BAD_REQUEST = "urn:problem-type:belgif:badRequest"


def test_a_signed_assertion_gets_a_ten_minute_bearer_token(client, employer, key):
    response = post_token(client, token_form(assertion(key, str(employer.pk))))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"  # noqa: S105 - a token type, not a secret
    assert body["expires_in"] == 600
    assert body["scope"] == "scope:presenceregistration:enterprise"
    assert response["Cache-Control"] == "no-store"
    stored = AccessToken.objects.get()
    assert body["access_token"] not in stored.token_hash  # only a hash is stored
    assert timedelta(seconds=590) < stored.expires_at - timezone.now() <= timedelta(seconds=600)


def _refused(response, error="invalid_client"):
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == BELGIF_BAD_REQUEST
    assert body["error"] == error
    return body


def _hs256_with_public_pem(key, client_id):
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": "http://testserver" + TOKEN_PATH}
    claims.update(iat=now, exp=now + 60, jti="confusion")
    # Algorithm confusion: build the HMAC token by hand (PyJWT refuses a PEM as HMAC key).
    header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT"}')
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode())
    signature = hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()
    return (header + b"." + payload + b"." + jwt.utils.base64url_encode(signature)).decode()


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda key, other, cid: assertion(other, cid), id="signed-by-another-key"),
        pytest.param(lambda key, other, cid: assertion(key, cid, exp=int(time.time()) - 120), id="expired"),
        pytest.param(lambda key, other, cid: assertion(key, cid, exp=int(time.time()) + 3600), id="exp-too-far"),
        pytest.param(lambda key, other, cid: assertion(key, cid, iat=int(time.time()) + 600), id="iat-in-future"),
        pytest.param(lambda key, other, cid: assertion(key, cid, aud="http://evil.example/token"), id="wrong-aud"),
        pytest.param(
            lambda key, other, cid: assertion(key, cid, aud="http://testserver" + API), id="aud-is-the-api-root"
        ),
        pytest.param(lambda key, other, cid: assertion(key, cid, sub="someone-else"), id="sub-not-iss"),
        pytest.param(lambda key, other, cid: assertion(key, "3f1b7d7e-0000-4000-8000-000000000000"), id="unknown"),
        pytest.param(lambda key, other, cid: assertion(key, "not-a-uuid"), id="iss-not-uuid"),
        pytest.param(lambda key, other, cid: assertion(key, cid, jti=None), id="no-jti"),
        pytest.param(lambda key, other, cid: assertion(key, cid, exp=None), id="no-exp"),
        pytest.param(lambda key, other, cid: assertion(key, cid, iat=None), id="no-iat"),
        pytest.param(lambda key, other, cid: assertion(key, cid, aud=None), id="no-aud"),
        pytest.param(lambda key, other, cid: assertion(key, cid, jti=12), id="jti-not-string"),
        pytest.param(lambda key, other, cid: assertion(None, cid, algorithm="none"), id="alg-none"),
        pytest.param(lambda key, other, cid: _hs256_with_public_pem(key, cid), id="hs256-keyed-with-public-pem"),
        pytest.param(lambda key, other, cid: "not.a.jwt", id="garbage"),
    ],
)
def test_bad_assertions_are_refused_with_one_generic_answer(client, employer, key, other_key, build):
    body = _refused(post_token(client, token_form(build(key, other_key, str(employer.pk)))))
    assert body["error_description"] == "client authentication failed"
    assert not AccessToken.objects.exists()


def test_a_refused_algorithm_is_logged_without_the_clients_header_value(client, employer, caplog):
    """The reason is logged; the header's own text (any length, any content) is not."""
    caplog.set_level(logging.INFO, logger="rest_gateway.oauth")
    header = jwt.utils.base64url_encode(json.dumps({"alg": "x" * 5000 + "-chosen-by-the-caller"}).encode())
    claims = jwt.utils.base64url_encode(json.dumps({"iss": str(employer.pk)}).encode())
    _refused(post_token(client, token_form((header + b"." + claims + b".c2ln").decode())))
    assert "alg is not RS256" in caplog.text
    assert "chosen-by-the-caller" not in caplog.text


def test_an_assertion_cannot_be_replayed(client, employer, key):
    signed = assertion(key, str(employer.pk))
    assert post_token(client, token_form(signed)).status_code == 200
    _refused(post_token(client, token_form(signed)))
    assert AccessToken.objects.count() == 1
    assert UsedClientAssertion.objects.count() == 1


def test_an_inactive_client_gets_no_token_and_its_tokens_stop_working(client, employer, key):
    token = token_for(client, employer, key)
    employer.is_active = False
    employer.save()
    _refused(post_token(client, token_form(assertion(key, str(employer.pk)))))
    response = Api(client, token).get("/refData/remarks")
    assert response.status_code == 401
    assert response.json()["type"] == "urn:problem-type:belgif:invalidAccessToken"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "invalid_request"),
        ({"client_assertion_type": "urn:other"}, "invalid_client"),
        ({"scope": "scope:presenceregistration:inspection"}, "invalid_scope"),
    ],
)
def test_bad_token_forms_are_refused(client, employer, key, change, error):
    _refused(post_token(client, token_form(assertion(key, str(employer.pk)), **change)), error)


def test_the_token_form_must_be_url_encoded_and_posted(client, employer, key):
    body = token_form(assertion(key, str(employer.pk)))
    as_json = client.post(TOKEN_PATH, data="{}", content_type="application/json")
    _refused(as_json, "invalid_request")
    with_basic = post_token(client, body, HTTP_AUTHORIZATION="Basic eDp5")
    _refused(with_basic, "invalid_request")
    get = client.get(TOKEN_PATH)
    assert get.status_code == 405
    assert get["Allow"] == "POST"
    assert get["Content-Type"] == "application/problem+json"


def test_a_configured_audience_replaces_the_addressed_url(client, employer, key, settings):
    settings.OAUTH_TOKEN_AUDIENCES = ["https://api.example.be/REST/oauth/v5/token"]
    _refused(post_token(client, token_form(assertion(key, str(employer.pk)))))
    good = assertion(key, str(employer.pk), aud="https://api.example.be/REST/oauth/v5/token")
    assert post_token(client, token_form(good)).status_code == 200


def _get(client, headers):
    return client.get(API + "/refData/remarks", **headers)


def test_no_token_is_401_no_access_token(client):
    response = _get(client, {})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:problem-type:belgif:noAccessToken"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a b", "Bearer ", "Bearer " + "x" * 600])
def test_an_invalid_token_is_401_invalid_access_token(client, header, db):
    response = _get(client, {"HTTP_AUTHORIZATION": header})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:problem-type:belgif:invalidAccessToken"
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_an_expired_token_is_401_expired_access_token(client, employer, key):
    token = token_for(client, employer, key)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _get(client, {"HTTP_AUTHORIZATION": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:problem-type:belgif:expiredAccessToken"


def test_a_client_cannot_mint_its_own_token(client, employer, key):
    self_made = assertion(key, str(employer.pk), aud="http://testserver" + API)
    response = _get(client, {"HTTP_AUTHORIZATION": f"Bearer {self_made}"})
    assert response.status_code == 401


def test_registering_needs_the_enterprise_scope(client, key):
    professional = rest_client(key, ClientRole.PROFESSIONAL)
    api = Api(client, token_for(client, professional, key))
    response = api.register(event())
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "urn:problem-type:belgif:missingScope"
    assert body["requiredScopes"] == ["scope:presenceregistration:enterprise"]
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert not Registration.objects.exists()


def test_expired_tokens_and_assertion_ids_are_purged(client, employer, key):
    live = token_for(client, employer, key)
    token_for(client, employer, key)
    AccessToken.objects.exclude(pk=AccessToken.objects.order_by("pk").first().pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    UsedClientAssertion.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert purge_expired_credentials() == 3
    assert Api(client, live).get("/refData/remarks").status_code == 200


def test_a_forged_forwarded_host_does_not_change_the_expected_audience(client, employer, key):
    forged = {"HTTP_X_FORWARDED_HOST": "evil.example"}
    aimed_at_forged = assertion(key, str(employer.pk), aud="http://evil.example" + TOKEN_PATH)
    _refused(post_token(client, token_form(aimed_at_forged), **forged))
    assert post_token(client, token_form(assertion(key, str(employer.pk))), **forged).status_code == 200
