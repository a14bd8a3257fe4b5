"""The OAuth 2.0 token endpoint `POST /REST/oauth/v5/token` (spec §6).

Client credentials grant; the client authenticates with a JWT assertion (RFC 7523,
private_key_jwt) signed RS256 with the key registered by `register_client --public-key`:
`iss` = `sub` = the client id, `aud` = this endpoint's URL as the client addressed it (or one
of OAUTH_TOKEN_AUDIENCES behind a proxy), `exp` at most 10 minutes ahead, `iat`, and a `jti`
never seen before (stored until it expires). There are no client secrets.

Refusals are 400 problems (Belgif `badRequest`) that also carry RFC 6749's `error` and
`error_description`, so OAuth client libraries read them as usual. Every client-
authentication failure gets the same description: the endpoint tells nobody which client
ids exist. The reason is logged (never the assertion).

Each client's token requests are limited (OAUTH_TOKEN_RATE_LIMIT, ADR 0013), counted once its
assertion is verified and its `jti` found fresh: nobody else can spend a client's budget, not
even by replaying one of its assertions. The request over the limit gets a 429 problem
(Belgif `tooManyRequests`, with `Retry-After`) and writes nothing.
"""

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.observability import metrics
from registrations.domain.vocabulary import ClientRole
from registrations.selectors.clients import active_client_with_key
from registrations.services.clients import client_mark_used
from rest_gateway.auth import ROLE_SCOPES, access_token_issue
from rest_gateway.errors import about_blank, bad_request, issue, problem, problem_response
from rest_gateway.models import UsedClientAssertion
from rest_gateway.throttling import token_request_wait_seconds

if TYPE_CHECKING:
    from registrations.models import Client

logger = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "jti"]
LEEWAY_SECONDS = 30
MAX_ASSERTION_SECONDS = 600
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, parameter: str | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.parameter = parameter


class TokenRateLimitError(Exception):
    def __init__(self, wait_seconds: int) -> None:
        super().__init__(f"retry in {wait_seconds} seconds")
        self.wait_seconds = wait_seconds


def _refusal(exc: OAuthError) -> JsonResponse:
    body = bad_request(
        [issue("invalidInput", exc.description, location="body", name=exc.parameter)],
        "The token request was refused",
    )
    body.update(error=exc.error, error_description=exc.description)
    return problem_response(body, _NO_STORE)


def _too_many(exc: TokenRateLimitError) -> JsonResponse:
    wait = exc.wait_seconds
    description = f"too many token requests from this client: retry in {wait} seconds"
    body = problem("tooManyRequests", description, retryAfter=wait, retryAfterSec=wait)
    # RFC 6749 registers no token-endpoint error for a rate limit; `temporarily_unavailable`
    # (its "come back later" code) is the one OAuth libraries know.
    body.update(error="temporarily_unavailable", error_description=description)
    return problem_response(body, {**_NO_STORE, "Retry-After": str(wait)})


def _bad_client(reason: str) -> OAuthError:
    logger.info("token request refused: %s", reason)
    return OAuthError("invalid_client", "client authentication failed", "client_assertion")


def expected_audiences(request: HttpRequest) -> list[str]:
    """The configured public token URL(s), else this endpoint's URL as addressed."""
    configured: list[str] = settings.OAUTH_TOKEN_AUDIENCES
    return list(configured) if configured else [request.build_absolute_uri(request.path)]


def _form(request: HttpRequest) -> dict[str, str]:
    content_type = request.content_type or ""
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    if request.META.get("HTTP_AUTHORIZATION"):
        raise OAuthError("invalid_request", "authenticate with client_assertion only, not Authorization")
    form = {}
    for key in request.POST:
        values = request.POST.getlist(key)
        if len(values) != 1:
            raise OAuthError("invalid_request", f"{key} must not be repeated", key)
        form[key] = values[0]
    for key in ("grant_type", "client_assertion_type", "client_assertion"):
        if not form.get(key):
            raise OAuthError("invalid_request", f"{key} is required", key)
    if form["grant_type"] != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials", "grant_type")
    if form["client_assertion_type"] != ASSERTION_TYPE:
        raise OAuthError("invalid_client", f"client_assertion_type must be {ASSERTION_TYPE}", "client_assertion_type")
    return form


def _claims(assertion: str, client: "Client", audiences: list[str]) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            key=client.public_key_pem,
            algorithms=["RS256"],  # pinned here, never taken from the token
            audience=audiences,
            issuer=str(client.pk),
            subject=str(client.pk),
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except (jwt.InvalidTokenError, ValueError) as exc:  # ValueError: a PEM PyJWT cannot load
        raise _bad_client(type(exc).__name__) from exc
    if claims["exp"] - time.time() > MAX_ASSERTION_SECONDS + LEEWAY_SECONDS:
        raise _bad_client("exp too far ahead")
    # Printable only: a NUL cannot be stored in PostgreSQL text, a lone surrogate nowhere.
    if not isinstance(claims["jti"], str) or not 1 <= len(claims["jti"]) <= 255 or not claims["jti"].isprintable():
        raise _bad_client("jti")
    return claims


def _client(issuer: object) -> "Client | None":
    """The active client with a registered key whose id is `issuer` (a UUID string)."""
    if not isinstance(issuer, str):
        return None
    try:
        client_id = uuid.UUID(issuer)
    except ValueError:
        return None
    return active_client_with_key(client_id=client_id)


def authenticate_client(request: HttpRequest, assertion: str) -> "Client":
    """The active client whose key signed `assertion`; raises OAuthError otherwise, and
    TokenRateLimitError when that client is over its token rate limit."""
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise _bad_client("malformed") from exc
    if header.get("alg") != "RS256":
        raise _bad_client("alg is not RS256")  # the client's value stays out of the log
    client = _client(unverified.get("iss"))
    if client is None:
        raise _bad_client("unknown or inactive client")
    claims = _claims(assertion, client, expected_audiences(request))
    with transaction.atomic():
        _consume_assertion(client, claims)
        # Counted only now, so a replayed assertion spends nothing of the client's budget;
        # raising here rolls the jti back: a refused request leaves no row behind.
        wait = token_request_wait_seconds(client=client)
        if wait is not None:
            logger.warning("token request refused: client %s is over its token rate limit", client.pk)
            raise TokenRateLimitError(wait)
    return client


def _consume_assertion(client: "Client", claims: dict[str, Any]) -> None:
    """Records the assertion's `jti` as used; raises OAuthError if it already was."""
    try:
        with transaction.atomic():
            UsedClientAssertion.objects.create(
                client=client,
                jti=claims["jti"],
                expires_at=datetime.fromtimestamp(claims["exp"] + LEEWAY_SECONDS, tz=UTC),
            )
    except IntegrityError as exc:
        raise _bad_client("replayed jti") from exc


def _granted_scopes(client: "Client", requested: str | None) -> list[str]:
    role = ClientRole(client.role)
    allowed = {ROLE_SCOPES[role]} if role in ROLE_SCOPES else set()
    if requested is None:
        return sorted(allowed)
    wanted = set(requested.split())
    if not wanted or not wanted <= allowed:
        raise OAuthError("invalid_scope", "the requested scope is not granted to this client", "scope")
    return sorted(wanted)


@csrf_exempt
def token_endpoint(request: HttpRequest) -> HttpResponse:
    """Exchange a signed client assertion for a Bearer token valid 10 minutes."""
    if request.method != "POST":
        response = problem_response(about_blank(405), _NO_STORE)
        response["Allow"] = "POST"
        return response
    try:
        form = _form(request)
        client = authenticate_client(request, form["client_assertion"])
        scopes = _granted_scopes(client, form.get("scope"))
    except OAuthError as exc:
        return _refusal(exc)
    except TokenRateLimitError as exc:
        return _too_many(exc)
    token, lifetime = access_token_issue(client=client, scopes=scopes)
    metrics.TOKENS_ISSUED.inc()
    client_mark_used(client=client)  # "last used" in the operators' console
    body = {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": " ".join(scopes)}
    response = JsonResponse(body)
    for key, value in _NO_STORE.items():
        response[key] = value
    return response
