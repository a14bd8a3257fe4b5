"""Bearer tokens end when the client's credentials or active state change (issue 11, item 6).

Every path an operator has — the services, the admin's change form and its keys screen — ends
the tokens issued before; a reactivated client gets none back. The refusal is the ordinary
401 invalidAccessToken, the same answer as for a token that never existed.
"""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as DjangoClient

from registrations.models import Client
from registrations.services.clients import (
    client_revoke_certificate,
    client_revoke_public_key,
    client_rotate_certificate,
    client_rotate_public_key,
    client_update,
)
from tests.operators.conftest import logged_in, staff_in
from tests.rest_gateway.conftest import Api, public_pem, rest_client, token_for
from tests.soap_gateway.conftest import make_credentials

pytestmark = pytest.mark.django_db


def _refusal(response: Any) -> dict[str, Any]:
    """What a caller can tell apart in a 401: everything but the per-response instance id."""
    assert response.status_code == 401, response.content
    body = response.json()
    body.pop("instance", None)
    return {"body": body, "www_authenticate": response["WWW-Authenticate"]}


def _unknown_token_refusal(http: DjangoClient) -> dict[str, Any]:
    return _refusal(Api(http, "never-issued-token").get("/refData/remarks"))


def _with_certificate(client: Client, tmp_path: Any) -> Client:
    return client_rotate_certificate(
        client=client, certificate_pem=make_credentials(tmp_path, f"cert-{client.pk}").cert_pem
    )


CHANGES: dict[str, Callable[[Client, Any, Any], object]] = {
    "public key rotated": lambda rest, other_key, tmp: client_rotate_public_key(
        client=rest, public_key_pem=public_pem(other_key)
    ),
    "public key revoked": lambda rest, other_key, tmp: client_revoke_public_key(client=rest),
    "certificate rotated": lambda rest, other_key, tmp: client_rotate_certificate(
        client=rest, certificate_pem=make_credentials(tmp, "rotated").cert_pem
    ),
    "certificate revoked": lambda rest, other_key, tmp: client_revoke_certificate(client=rest),
    "deactivated": lambda rest, other_key, tmp: client_update(
        client=rest, name=rest.name, is_active=False, rate_limit=rest.rate_limit
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_token_issued_before_a_credential_change_is_refused_like_an_unknown_one(
    client, key, other_key, tmp_path, change
):
    rest = _with_certificate(rest_client(key), tmp_path)
    api = Api(client, token_for(client, rest, key))
    assert api.get("/refData/remarks").status_code == 200

    CHANGES[change](rest, other_key, tmp_path)

    refused = _refusal(api.get("/refData/remarks"))
    assert refused["body"]["type"] == "urn:problem-type:belgif:invalidAccessToken"
    assert refused == _unknown_token_refusal(client)


def test_a_token_issued_after_a_key_rotation_works_and_the_old_one_stays_refused(client, key, other_key):
    rest = rest_client(key)
    old = Api(client, token_for(client, rest, key))
    client_rotate_public_key(client=rest, public_key_pem=public_pem(other_key))

    new = Api(client, token_for(client, rest, other_key))

    assert new.get("/refData/remarks").status_code == 200
    assert old.get("/refData/remarks").status_code == 401


def test_reactivating_a_client_does_not_bring_its_old_tokens_back(client, key):
    rest = rest_client(key)
    old = Api(client, token_for(client, rest, key))
    client_update(client=rest, name=rest.name, is_active=False, rate_limit="")
    client_update(client=rest, name=rest.name, is_active=True, rate_limit="")

    assert _refusal(old.get("/refData/remarks")) == _unknown_token_refusal(client)
    assert Api(client, token_for(client, rest, key)).get("/refData/remarks").status_code == 200


def test_renaming_a_client_or_changing_its_rate_limit_keeps_its_tokens(client, key):
    rest = rest_client(key)
    api = Api(client, token_for(client, rest, key))
    client_update(client=rest, name="renamed", is_active=True, rate_limit="100/minute")
    assert api.get("/refData/remarks").status_code == 200


@pytest.fixture
def operator() -> DjangoClient:
    """An administrator's admin session: manages clients and their keys."""
    return logged_in(staff_in("administrator", "ada"))


def _change_form(rest: Client, *, is_active: bool) -> dict[str, Any]:
    form: dict[str, Any] = {"name": rest.name, "rate_limit": rest.rate_limit}
    form.update({f"mandates-{part}": value for part, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))})
    if is_active:
        form["is_active"] = "on"
    return form


def test_deactivating_and_reactivating_in_the_admin_ends_the_clients_tokens(client, key, operator):
    rest = rest_client(key)
    api = Api(client, token_for(client, rest, key))
    url = f"/admin/registrations/client/{rest.pk}/change/"

    for is_active in (False, True):
        response = operator.post(url, _change_form(rest, is_active=is_active))
        assert response.status_code == 302, response.content[:2000]
    rest.refresh_from_db()
    assert rest.is_active

    assert _refusal(api.get("/refData/remarks")) == _unknown_token_refusal(client)


def test_rotating_the_key_in_the_admin_ends_the_clients_tokens(client, key, other_key, operator):
    rest = rest_client(key)
    api = Api(client, token_for(client, rest, key))

    response = operator.post(f"/admin/registrations/client/{rest.pk}/keys/", {"public_key_pem": public_pem(other_key)})

    assert response.status_code == 302
    assert _refusal(api.get("/refData/remarks")) == _unknown_token_refusal(client)
    assert Api(client, token_for(client, rest, other_key)).get("/refData/remarks").status_code == 200
