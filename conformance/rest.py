"""A REST client of presenceRegistration v1: a token by client assertion (RFC 7523,
private_key_jwt, RS256), then JSON calls with the bearer token."""

import time
import uuid
from typing import Any

import jwt
import requests

from conformance.contract import ASSERTION_TYPE, resolve_moment


def client_assertion(client_id: str, key_pem: str, audience: str) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key_pem, algorithm="RS256")


def event_item(item: dict[str, Any]) -> dict[str, Any]:
    """One registerInBulk item from a data-file item (its moment rule resolved)."""
    return item | {"registrationDate": resolve_moment(str(item["registrationDate"])).isoformat()}


class RestClient:
    def __init__(self, base_url: str, token_url: str, client_id: str, key_pem: str, *, timeout: float = 30) -> None:
        self.base_url, self.token_url = base_url.rstrip("/"), token_url
        self.client_id, self.key_pem, self.timeout = client_id, key_pem, timeout
        self.session = requests.Session()  # carries the bearer token once authenticated
        self.token_session = requests.Session()  # never: the token endpoint refuses an Authorization header

    def request_token(self, *, key_pem: str | None = None, client_id: str | None = None) -> requests.Response:
        assertion = client_assertion(client_id or self.client_id, key_pem or self.key_pem, self.token_url)
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        return self.token_session.post(self.token_url, data=form, timeout=self.timeout)

    def authenticate(self) -> None:
        answer = self.request_token()
        if answer.status_code != 200:
            raise RuntimeError(f"no token: HTTP {answer.status_code} {answer.text[:300]}")
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.request(method, f"{self.base_url}{path}", **kwargs)

    def register(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answer = self.call(
            "POST", "/presenceRegistrations/registerInBulk", json={"items": list(map(event_item, items))}
        )
        if answer.status_code != 200:
            raise RuntimeError(f"registerInBulk: HTTP {answer.status_code} {answer.text[:300]}")
        result: list[dict[str, Any]] = answer.json()["items"]
        return result
