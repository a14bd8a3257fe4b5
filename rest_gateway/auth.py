"""Bearer tokens and scopes for the API (spec §6, §8).

Tokens are opaque random strings stored hashed (docs/rest.md explains why not JWTs): one
indexed query finds the token and its client. Each token carries the client's token
generation at issue and is valid only while the client still has it: rotating a key or the
certificate, deactivating or reactivating the client bumps it and so ends every token issued
before, at once and for good (ADR 0013).
Scopes follow the client's role: enterprise (register, consult, cancel), professional
(consult for mandating enterprises), inspection (consult everything, reads logged).

Do not import rest_framework.views here: DRF imports this module while it loads.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from registrations.domain.authorisation import Caller
from registrations.domain.vocabulary import ClientRole
from registrations.selectors.clients import caller_for_client
from rest_gateway import token_cache
from rest_gateway.errors import ExpiredAccessToken, InvalidAccessToken, MissingScope
from rest_gateway.models import AccessToken

if TYPE_CHECKING:
    from registrations.models import Client

SCOPE_ENTERPRISE = "scope:presenceregistration:enterprise"
SCOPE_PROFESSIONAL = "scope:presenceregistration:professional"
SCOPE_INSPECTION = "scope:presenceregistration:inspection"
CONSULT = frozenset({SCOPE_ENTERPRISE, SCOPE_PROFESSIONAL, SCOPE_INSPECTION})
REGISTER = frozenset({SCOPE_ENTERPRISE})
SCOPE_DESCRIPTIONS = {
    SCOPE_ENTERPRISE: "register, consult and cancel for the client's own enterprise",
    SCOPE_PROFESSIONAL: "consult for the enterprises that mandated the client",
    SCOPE_INSPECTION: "consult everything; every read is logged in the history",
}
ROLE_SCOPES = {
    ClientRole.ENTERPRISE: SCOPE_ENTERPRISE,
    ClientRole.PROFESSIONAL: SCOPE_PROFESSIONAL,
    ClientRole.INSPECTION: SCOPE_INSPECTION,
}
REALM = 'Bearer realm="presenceRegistration"'


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def access_token_issue(*, client: "Client", scopes: list[str]) -> tuple[str, int]:
    """A new Bearer token for the client; returns (token, lifetime in seconds)."""
    lifetime = settings.OAUTH_ACCESS_TOKEN_SECONDS
    raw = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        token_hash=_digest(raw),
        client=client,
        # The generation of the client as authenticated: if its credentials changed since,
        # the token is born ended (the safe side of the race).
        client_generation=client.token_generation,
        scope=" ".join(scopes),
        expires_at=timezone.now() + timedelta(seconds=lifetime),
    )
    return raw, lifetime


@dataclass(frozen=True)
class Principal:
    """The authenticated client of a request: `request.user` and `request.auth`."""

    client: "Client"
    scopes: frozenset[str]
    caller: Caller
    is_authenticated: bool = True

    @property
    def client_id(self) -> str:
        return str(self.client.pk)


def principal_for_token(raw: str) -> Principal:
    """Raises InvalidAccessToken (unknown, revoked, inactive client, issued before the
    client's credentials or active state last changed) or ExpiredAccessToken.

    Kept in the cache for the token's life (rest_gateway/token_cache.py), so a client's
    calls after its first cost no query; any change to a client drops what was kept."""
    digest = _digest(raw)
    kept, stamp = token_cache.kept_principal(digest)
    if kept is not None:
        return kept
    row = (
        AccessToken.objects.select_related("client")
        .filter(
            token_hash=digest,
            revoked=False,
            client__is_active=True,
            client_generation=F("client__token_generation"),
        )
        .first()
    )
    if row is None:
        raise InvalidAccessToken
    if row.expires_at <= timezone.now():
        raise ExpiredAccessToken
    principal = Principal(row.client, frozenset(row.scope.split()), caller_for_client(row.client))
    token_cache.keep_principal(digest, principal, expires_at=row.expires_at, stamp=stamp)
    return principal


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Principal, Principal] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        if not header or scheme.lower() != "bearer":
            return None  # the permission answers 401 noAccessToken
        raw = raw.strip()
        if not raw or " " in raw or len(raw) > 512:
            raise InvalidAccessToken
        principal = principal_for_token(raw)
        return principal, principal

    def authenticate_header(self, request: Request) -> str:
        # Without it DRF turns every 401 into a 403.
        return REALM


class ScopePermission(BasePermission):
    """Each view declares `required_scopes` per method: any one of them is enough."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, Principal):
            return False  # -> NotAuthenticated -> 401 noAccessToken
        if request.method not in view.allowed_methods or request.method == "OPTIONS":
            return True  # let DRF answer 405
        method = "GET" if request.method == "HEAD" else request.method
        required: frozenset[str] = view.required_scopes.get(method, frozenset())
        if not required or not (request.auth.scopes & required):
            raise MissingScope(set(required))
        return True
