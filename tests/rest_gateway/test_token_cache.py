"""A bearer token's client is kept in the cache for the token's life (issue 14), and every
change that ends or narrows a client's access still takes effect on the very next call.

Each behaviour runs against the cache the settings give (process memory in the tests) and
against a real Redis (own key prefix: a shared Redis database is never cleared)."""

import hashlib
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations.domain.exceptions import ItemErrorCode
from registrations.models import Client, ClientMandate, ClientRole
from registrations.services.client_stamp import ClientCacheUnavailableError
from registrations.services.clients import (
    client_revoke_certificate,
    client_revoke_public_key,
    client_rotate_public_key,
    client_set_clock_offset,
    client_update,
)
from rest_gateway.models import AccessToken
from rest_gateway.token_cache import KEY_PREFIX
from tests.rest_gateway.conftest import Api, event, new_key, public_pem, rest_client, token_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate().isoformat()
WINDOW = {"registrationDateFrom": TODAY, "registrationDateTo": TODAY}
UNREACHABLE = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}


@pytest.fixture(params=["default", pytest.param("redis", marks=pytest.mark.redis)])
def token_cache(request, settings):
    """The cache the tokens are kept in: the settings' own, or a real Redis."""
    if request.param == "redis":
        redis_url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            **settings.CACHES,
            settings.REST_THROTTLE_CACHE: {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": f"test-{uuid.uuid4()}",
            },
        }
    cache = caches[settings.REST_THROTTLE_CACHE]
    yield cache
    if request.param == "redis":
        redis = cache._cache.get_client()
        own = redis.keys(f"{settings.CACHES[settings.REST_THROTTLE_CACHE]['KEY_PREFIX']}:*")
        if own:
            redis.delete(*own)


def _token_queries(api: Api, path: str = "/refData/remarks") -> tuple[int, int]:
    """The status of one call and how many of its queries read the access-token table."""
    with CaptureQueriesContext(connection) as queries:
        status = api.get(path).status_code
    return status, sum("rest_gateway_accesstoken" in query["sql"] for query in queries.captured_queries)


@pytest.fixture
def cached_api(client, employer, key, token_cache) -> Api:
    """An enterprise client's token, used once so that it is kept."""
    api = Api(client, token_for(client, employer, key))
    assert _token_queries(api) == (200, 1)
    return api


def test_a_token_is_read_from_the_database_once_then_kept(cached_api, token_cache):
    assert _token_queries(cached_api) == (200, 0)
    digest = hashlib.sha256(cached_api.token.encode()).hexdigest()
    assert token_cache.get(KEY_PREFIX + digest) is not None  # kept under the token's hash
    assert token_cache.get(KEY_PREFIX + cached_api.token) is None  # never under the token itself


def test_a_kept_token_expires_with_the_token(cached_api, settings):
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.OAUTH_ACCESS_TOKEN_SECONDS + 1)):
        response = cached_api.get("/refData/remarks")
    assert response.status_code == 401
    assert response.json()["type"] == "urn:problem-type:belgif:expiredAccessToken"


def test_a_revoked_token_is_refused_at_once(cached_api):
    token = AccessToken.objects.get()
    token.revoked = True
    token.save()
    assert _token_queries(cached_api) == (401, 1)


def test_a_deactivated_client_is_refused_at_once(cached_api, employer):
    client_update(client=employer, name=employer.name, is_active=False, rate_limit="")
    assert _token_queries(cached_api) == (401, 1)


@pytest.mark.parametrize(
    "change",
    [
        lambda client: client_rotate_public_key(client=client, public_key_pem=public_pem(new_key())),
        lambda client: client_revoke_public_key(client=client),
        lambda client: client_revoke_certificate(client=client),
    ],
    ids=["key rotated", "key revoked", "certificate revoked"],
)
def test_a_credential_change_ends_kept_tokens_at_once(cached_api, employer, change):
    change(employer)
    assert _token_queries(cached_api) == (401, 1)


def test_a_rate_limit_change_applies_to_kept_tokens_at_once(cached_api, employer):
    client_update(client=employer, name=employer.name, is_active=True, rate_limit="1/minute")
    # The fixture's call spent the one call a minute: with the old limit this one would pass.
    assert cached_api.get("/refData/remarks").status_code == 429


def test_a_clock_offset_change_applies_to_kept_tokens_at_once(cached_api, employer, settings):
    settings.SANDBOX_MODE = True
    client_set_clock_offset(client=employer, offset=timedelta(hours=2))  # "now" two hours ahead
    late = cached_api.register(event(enterprise_number=employer.enterprise_number, at=timezone.now()))
    codes = [error["errorCode"] for error in late.json()["items"][0]["notCreatedPresenceRegistration"]["errorList"]]
    assert codes == [ItemErrorCode.EVENT_TOO_LATE.value]  # two hours before the client's "now"


def test_a_removed_mandate_applies_to_kept_tokens_at_once(client, key, employer, token_cache):
    registered = Api(client, token_for(client, employer, key)).register(
        event(enterprise_number=employer.enterprise_number)
    )
    assert registered.status_code == 200
    professional = rest_client(key, ClientRole.PROFESSIONAL, mandates=(employer.enterprise_number,))
    api = Api(client, token_for(client, professional, key))
    assert len(api.get("/presenceRegistrations", WINDOW).json()["items"]) == 1
    assert len(api.get("/presenceRegistrations", WINDOW).json()["items"]) == 1  # kept

    ClientMandate.objects.filter(client=professional).delete()  # as the admin's inline does

    assert api.get("/presenceRegistrations", WINDOW).json()["items"] == []


def test_a_role_change_applies_to_kept_tokens_at_once(client, key, employer, token_cache):
    Api(client, token_for(client, employer, key)).register(event(enterprise_number=employer.enterprise_number))
    inspection = rest_client(key, ClientRole.INSPECTION)
    api = Api(client, token_for(client, inspection, key))
    assert len(api.get("/presenceRegistrations", WINDOW).json()["items"]) == 1

    inspection.role = ClientRole.PROFESSIONAL  # without mandates: sees nothing
    inspection.save()

    assert api.get("/presenceRegistrations", WINDOW).json()["items"] == []


def test_tokens_are_read_from_the_database_when_the_cache_does_not_answer(client, employer, key, settings, caplog):
    api = Api(client, token_for(client, employer, key))
    settings.CACHES = {**settings.CACHES, settings.REST_THROTTLE_CACHE: UNREACHABLE}

    assert [_token_queries(api) for _ in range(2)] == [(200, 1), (200, 1)]
    AccessToken.objects.update(revoked=True)
    assert _token_queries(api) == (401, 1)  # never accepted from a cache it cannot reach
    assert "token cache unreachable" in caplog.text


def test_a_client_change_is_refused_when_the_cache_does_not_answer(employer, settings):
    settings.CACHES = {**settings.CACHES, settings.REST_THROTTLE_CACHE: UNREACHABLE}
    with pytest.raises(ClientCacheUnavailableError):
        client_update(client=employer, name=employer.name, is_active=False, rate_limit="")
    assert Client.objects.get(pk=employer.pk).is_active  # nothing changed


def test_an_entry_kept_before_a_change_is_not_used_after_it_commits(
    cached_api, employer, django_capture_on_commit_callbacks
):
    """The stamp is set again once the change commits: an entry a racing reader kept between
    the first stamp and the commit is dropped too."""
    stamp_key = "clients:stamp"
    cache = caches[django_settings.REST_THROTTLE_CACHE]
    with django_capture_on_commit_callbacks(execute=True):
        client_update(client=employer, name=employer.name, is_active=False, rate_limit="")
        during = cache.get(stamp_key)
    assert cache.get(stamp_key) != during
