"""REST fixtures: RSA keys, clients registered with a public key, signed assertions, tokens,
and an API client that speaks JSON with a Bearer token."""

import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client as DjangoClient
from django.utils import timezone

from registrations.models import Client, ClientMandate, ClientRole
from tests.factories import make_enterprise_number, make_niss, make_workplace_id

TOKEN_PATH = "/REST/oauth/v5/token"  # noqa: S105 - a URL, not a secret
TOKEN_URL = "http://testserver" + TOKEN_PATH
API = "/REST/presenceRegistration/v1"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="session")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return new_key()


def rest_client(
    key: rsa.RSAPrivateKey,
    role: ClientRole = ClientRole.ENTERPRISE,
    enterprise_number: str | None = None,
    mandates: tuple[str, ...] = (),
) -> Client:
    client = Client.objects.create(
        name=f"{role} REST client",
        enterprise_number=enterprise_number or make_enterprise_number(),
        role=role,
        public_key_pem=public_pem(key),
    )
    for number in mandates:
        ClientMandate.objects.create(client=client, enterprise_number=number)
    return client


def assertion(
    key: Any,
    client_id: str,
    *,
    aud: str | None = TOKEN_URL,
    algorithm: str = "RS256",
    headers: Any = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)


def token_form(signed: str, **extra: str) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": signed,
    }
    form.update(extra)
    return urlencode(form)


def post_token(http: DjangoClient, body: str, **headers: Any) -> Any:
    return http.post(TOKEN_PATH, data=body, content_type="application/x-www-form-urlencoded", **headers)


class Api:
    """The Django test client with a Bearer token and JSON bodies."""

    def __init__(self, http: DjangoClient, token: str) -> None:
        self.http = http
        self.token = token

    def _headers(self) -> dict[str, Any]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.get(API + path, params or {}, **self._headers())

    def post(self, path: str, body: Any) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.http.post(API + path, data=data, content_type="application/json", **self._headers())

    def register(self, *items: dict[str, Any]) -> Any:
        return self.post("/presenceRegistrations/registerInBulk", {"items": list(items)})


def token_for(http: DjangoClient, client: Client, key: Any) -> str:
    response = post_token(http, token_form(assertion(key, str(client.pk))))
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


@pytest.fixture
def employer(db, key) -> Client:
    """An enterprise client: registers, consults and cancels its own enterprise's events."""
    return rest_client(key)


@pytest.fixture
def api(client, employer, key) -> Api:
    return Api(client, token_for(client, employer, key))


def api_for(http: DjangoClient, rest: Client, key: Any) -> Api:
    return Api(DjangoClient() if http is None else http, token_for(http or DjangoClient(), rest, key))


def event(
    *,
    ssin: str | None = None,
    kind: str = "in",
    at: datetime | None = None,
    enterprise_number: str | None = None,
    workplace: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid real-time cleaning event (now, at GPS coordinates in Brussels)."""
    item: dict[str, Any] = {
        "registrationDate": (at or timezone.now()).isoformat(),
        "ssin": ssin or make_niss(),
        "type": kind,
        "employer": {"enterpriseNumber": enterprise_number or make_enterprise_number()},
        "placeOfWork": {"coordinates": {"latitude": 50.846557, "longitude": 4.351697}},
        "contractualRelationshipReference": workplace or make_workplace_id(),
    }
    item.update(extra)
    return item


def minutes_ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)
