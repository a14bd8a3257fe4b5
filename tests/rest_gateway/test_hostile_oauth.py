"""The token endpoint under hostile input (issue 11, item 5): a refusal, never a 500."""

import pytest

from rest_gateway.models import AccessToken, UsedClientAssertion
from tests.rest_gateway.conftest import assertion, post_token, token_form

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("jti", ["a\x00b", "\ud800", "tab\there"], ids=["nul", "lone-surrogate", "control"])
def test_a_signed_assertion_whose_jti_is_not_printable_is_refused(client, employer, key, jti):
    response = post_token(client, token_form(assertion(key, str(employer.pk), jti=jti)))
    assert response.status_code == 400, response.content
    assert (response.json()["error"], response.json()["error_description"]) == (
        "invalid_client",
        "client authentication failed",
    )
    assert not UsedClientAssertion.objects.exists()
    assert not AccessToken.objects.exists()


def test_a_form_of_nul_characters_and_broken_utf8_is_refused(client):
    form = "grant_type=client_credentials%00&client_assertion_type=%ED%A0%80&client_assertion=%00&scope=%00"
    response = post_token(client, form)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
