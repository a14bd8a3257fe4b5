"""OpenAPI (drf-spectacular): the OAuth 2.0 security scheme with its scopes, and the
problem responses every operation may give (Belgif: a shared `default` problem response).

The documentation page (Swagger UI) reads the same description with an HTTP bearer scheme in
place of the OAuth flow (`bearer_for_the_documentation_page`): OpenAPI cannot describe a
client authenticated by a signed assertion, and Swagger UI's dialog for the client-credentials
flow asks for a client secret this API does not have. Its Authorize takes a pasted token.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from rest_gateway.auth import SCOPE_DESCRIPTIONS
from rest_gateway.errors import ALL_PROBLEM_TYPES, ISSUE, ISSUE_EXT, ISSUE_TYPES

TOKEN_URL = "/REST/oauth/v5/token"  # noqa: S105 - a URL, not a secret


# drf-spectacular registers each extension in its untyped __init_subclass__.
class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]  # see above
    target_class = "rest_gateway.auth.BearerTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": (
                "OAuth 2.0 client credentials. The client authenticates at the token endpoint "
                "with a JWT assertion (RFC 7523, private_key_jwt) signed RS256 with its registered "
                "key: iss = sub = client id, aud = the token URL, exp at most 10 minutes ahead, a "
                "fresh jti. The Bearer token lives 10 minutes. See docs/rest.md."
            ),
            "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": SCOPE_DESCRIPTIONS}},
        }

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[str]]] | dict[str, list[str]]:
        scopes = getattr(auto_schema.view, "required_scopes", {}).get(auto_schema.method, frozenset())
        return [{self.name: [scope]} for scope in sorted(scopes)] or {self.name: []}


_ISSUE_TYPE_NAMES = [(ISSUE_EXT if prefix == ISSUE_EXT else ISSUE) + name for name, (prefix, _) in ISSUE_TYPES.items()]

PROBLEM_SCHEMAS: dict[str, Any] = {
    "InputValidationIssue": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": _ISSUE_TYPE_NAMES},
            "title": {"type": "string"},
            "detail": {"type": "string"},
            "in": {"type": "string", "enum": ["body", "query", "path", "header"]},
            "name": {"type": "string"},
            "value": {},
        },
        "required": ["type", "in"],
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details in the Belgif form.",
        "properties": {
            "type": {"type": "string", "enum": ALL_PROBLEM_TYPES},
            "href": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "issues": {"type": "array", "items": {"$ref": "#/components/schemas/InputValidationIssue"}},
            "requiredScopes": {"type": "array", "items": {"type": "string"}},
            "retryAfter": {"type": "integer"},
            "retryAfterSec": {"type": "integer"},
            "limit": {"type": "integer"},
        },
        "required": ["type", "title", "status"],
    },
}
_PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PROBLEM_RESPONSES: dict[str, Any] = {
    "ProblemResponse": {
        "description": (
            "A problem: 401 noAccessToken/invalidAccessToken/expiredAccessToken, 403 missingScope, "
            "404 resourceNotFound, 405/406/415 about:blank, 413 payloadTooLarge, 429 tooManyRequests "
            "(with Retry-After), 500 internalServerError"
        ),
        "content": _PROBLEM_CONTENT,
    },
    "BadRequestProblemResponse": {
        "description": "badRequest: the issues say which inputs are wrong and why",
        "content": _PROBLEM_CONTENT,
    },
}


def add_problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the problem schemas and responses."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(PROBLEM_SCHEMAS)
    components.setdefault("responses", {}).update(PROBLEM_RESPONSES)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("400", {"$ref": "#/components/responses/BadRequestProblemResponse"})
            responses.setdefault("default", {"$ref": "#/components/responses/ProblemResponse"})
    return result


BEARER_DESCRIPTION = (
    "Paste an access token. Get one at the token endpoint with a signed JWT assertion "
    "(docs/rest.md), or in sandbox mode with `manage.py issue_token CLIENT_ID`."
)


def bearer_for_the_documentation_page(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook for the documentation page's copy of the schema:
    the OAuth scheme becomes an HTTP bearer scheme; each operation's scopes move to its text."""
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.pop(BearerTokenScheme.name, None)
    schemes["bearer"] = {"type": "http", "scheme": "bearer", "description": BEARER_DESCRIPTION}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            requirements = operation.get("security")
            if not requirements:
                continue
            scopes = sorted({scope for requirement in requirements for scope in requirement.get("oauth2", [])})
            operation["security"] = [{"bearer": []}]
            if scopes:
                needs = f"Needs a token with one of the scopes: {', '.join(scopes)}."
                operation["description"] = f"{operation.get('description', '')}\n\n{needs}".strip()
    return result
