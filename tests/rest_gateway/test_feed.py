"""The feed over REST: `GET /events` (complete across pages and restarts, resumable, the
same visibility as get and search, every sector) and the webhook subscriptions."""

from typing import Any

import pytest
from django.test import Client as DjangoClient

from feed import selectors as feed_selectors
from feed.services.publishing import feed_publish
from history.models import HistoryEvent
from registrations.domain.vocabulary import Channel
from registrations.models import ClientRole
from registrations.selectors.clients import caller_for_client
from registrations.services.presences import CancelInput, registration_cancel_batch, registration_submit_batch
from registrations.validation.run import registration_validate_batch
from tests.factories import make_client, make_declaration, make_enterprise_number, presence
from tests.rest_gateway.conftest import Api, rest_client, token_for

pytestmark = pytest.mark.django_db


def submit(client, count: int, **fields) -> list[int]:
    """`count` presences sent by `client` (SOAP, construction), validated, published."""
    caller = caller_for_client(client)
    results = registration_submit_batch(
        items=[presence(caller=caller, **fields) for _ in range(count)], caller=caller, channel=Channel.WS
    )
    ids = [result.registration.pk for result in results if result.registration is not None]
    registration_validate_batch(registration_ids=ids)
    feed_publish()
    return ids


def api_of(rest, key) -> Api:
    http = DjangoClient()
    return Api(http, token_for(http, rest, key))


def read_all(api: Api, limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str]:
    items, cursor = [], after
    while True:
        page = api.get("/events", {"limit": limit, **({"after": cursor} if cursor else {})})
        assert page.status_code == 200, page.content
        body = page.json()
        items += body["items"]
        assert body["next"].endswith(f"/events?after={body['cursor']}&limit={limit}")
        cursor = body["cursor"]
        if not body["hasMore"]:
            return items, cursor


@pytest.fixture
def employer(key):
    """An enterprise with a REST client; its SOAP side sends with a certificate client of the
    same enterprise (spec §8: one enterprise, two gateways)."""
    number = make_enterprise_number()
    return {"rest": rest_client(key, enterprise_number=number), "soap": make_client(enterprise_number=number)}


def test_the_feed_is_complete_across_pages_and_restarts(employer, key):
    stranger = make_client()
    mine, theirs = [], []
    for _ in range(4):  # interleaved with another enterprise's events
        mine += submit(employer["soap"], 3)
        theirs += submit(stranger, 2)

    first = api_of(employer["rest"], key)
    page = first.get("/events", {"limit": 5}).json()
    second = api_of(employer["rest"], key)  # another process, restarted, resumes from the cursor
    rest, cursor = read_all(second, limit=7, after=page["cursor"])
    items = page["items"] + rest

    positions = [int(item["id"].removeprefix("evt_")) for item in items]
    assert positions == sorted(set(positions))  # in order, none twice
    assert sorted((item["data"]["registration"]["id"], item["type"]) for item in items) == sorted(
        [(pk, "registration.created") for pk in mine] + [(pk, "registration.failed") for pk in mine]
    )
    assert all(item["data"]["registration"]["sector"] == "construction" for item in items)
    order = [(item["data"]["registration"]["id"], item["type"]) for item in items]
    assert all(order.index((pk, "registration.created")) < order.index((pk, "registration.failed")) for pk in mine)

    caller = caller_for_client(employer["soap"])
    registration_cancel_batch(items=[CancelInput(mine[0], "PLANNING")], caller=caller, channel=Channel.WS)
    submit(stranger, 1)
    feed_publish()
    later, _ = read_all(second, limit=7, after=cursor)
    assert [(item["type"], item["data"]["registration"]["id"], item["data"]["reason"]) for item in later] == [
        ("registration.cancelled", mine[0], "PLANNING")
    ]


def test_a_caller_who_sees_little_reads_a_bounded_window_and_still_gets_everything(employer, key, monkeypatch):
    monkeypatch.setattr(feed_selectors, "WINDOW", 3)
    monkeypatch.setattr(feed_selectors, "SCAN_LIMIT", 6)
    stranger = make_client()
    submit(stranger, 5)
    [mine] = submit(employer["soap"], 1)
    submit(stranger, 5)
    api = api_of(employer["rest"], key)

    first = api.get("/events", {"limit": 10}).json()
    assert first["items"] == []  # nothing of its own in the first positions
    assert first["hasMore"] is True  # and the cursor moved on

    items, _ = read_all(api, limit=10, after=first["cursor"])
    assert [(item["data"]["registration"]["id"], item["type"]) for item in items] == [
        (mine, "registration.created"),
        (mine, "registration.failed"),
    ]


def test_a_builder_reads_its_subcontractors_events_on_its_site_and_a_stranger_nothing(key):
    builder = rest_client(key)
    subcontractor = make_client()
    site = make_declaration(builder=builder.enterprise_number, subcontractors=(subcontractor.enterprise_number,))
    [on_site] = submit(subcontractor, 1, workplace_id=site.number)
    submit(subcontractor, 1)  # elsewhere
    stranger = rest_client(key)

    seen, _ = read_all(api_of(builder, key), limit=50)
    assert {item["data"]["registration"]["id"] for item in seen} == {on_site}
    assert read_all(api_of(stranger, key), limit=50)[0] == []


def test_a_professional_reads_its_mandating_employers_events_and_inspection_is_recorded(key):
    mandating, other = make_client(), make_client()
    [theirs] = submit(mandating, 1)
    submit(other, 1)
    professional = rest_client(key, ClientRole.PROFESSIONAL, mandates=(mandating.enterprise_number,))
    inspection = rest_client(key, ClientRole.INSPECTION)

    seen, _ = read_all(api_of(professional, key), limit=50)
    assert {item["data"]["registration"]["id"] for item in seen} == {theirs}
    everything, _ = read_all(api_of(inspection, key), limit=50)
    assert len({item["data"]["registration"]["id"] for item in everything}) == 2
    consulted = HistoryEvent.objects.filter(event_type="registration.consulted", actor=f"client:{inspection.pk}")
    assert consulted.filter(registration_id=theirs).count() == 1  # one read, one record


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "cDEuMTA"[:-1]}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "1"}, "since"),
    ],
)
def test_a_bad_query_is_refused_by_name(employer, key, params, name):
    response = api_of(employer["rest"], key).get("/events", params)
    assert response.status_code == 400
    [issue] = response.json()["issues"]
    assert (issue["in"], issue["name"]) == ("query", name)


# --- subscriptions -----------------------------------------------------------------------------


@pytest.fixture
def local_http(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    return settings


def test_a_subscription_is_made_shown_rotated_and_deleted(employer, key, local_http):
    api = api_of(employer["rest"], key)
    made = api.post("/subscriptions", {"url": "http://127.0.0.1:9/hook", "eventTypes": ["registration.failed"]})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_")
    assert (body["status"], body["eventTypes"]) == ("active", ["registration.failed"])

    listed = api.get("/subscriptions").json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert api.get(f"/subscriptions/{body['id']}").json()["url"] == "http://127.0.0.1:9/hook"

    rotated = api.post(f"/subscriptions/{body['id']}/rotateSecret", {})
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != body["secret"]
    assert rotated.json()["previousSecretExpiresAt"] is not None

    assert (
        api.http.delete(f"/REST/presenceRegistration/v1/subscriptions/{body['id']}", **api._headers()).status_code
        == 204
    )
    assert api.get(f"/subscriptions/{body['id']}").status_code == 404
    assert api.get("/subscriptions").json()["items"] == []


def test_another_clients_subscription_is_answered_as_unknown(employer, key, local_http):
    owner = api_of(employer["rest"], key)
    made = owner.post("/subscriptions", {"url": "http://127.0.0.1:9/hook"}).json()
    other = api_of(rest_client(key), key)

    assert other.get(f"/subscriptions/{made['id']}").status_code == 404
    assert other.post(f"/subscriptions/{made['id']}/rotateSecret", {}).status_code == 404
    deleted = other.http.delete(f"/REST/presenceRegistration/v1/subscriptions/{made['id']}", **other._headers())
    assert deleted.status_code == 404
    assert owner.get(f"/subscriptions/{made['id']}").status_code == 200


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"url": "https://10.0.0.1/hook"}, "url"),
        ({"url": "https://169.254.169.254/latest"}, "url"),
        ({"url": "http://127.0.0.1:9/hook", "eventTypes": ["registration.deleted"]}, "eventTypes[0]"),
        ({"url": "http://127.0.0.1:9/hook", "eventTypes": []}, "eventTypes"),
        (
            {"url": "http://127.0.0.1:9/hook", "contractualRelationshipReference": "nope"},
            "contractualRelationshipReference",
        ),
        ({"url": "http://127.0.0.1:9/hook", "secret": "mine"}, "secret"),
        ({}, "url"),
    ],
)
def test_a_bad_subscription_is_refused_by_name_and_nothing_is_made(employer, key, local_http, body, name):
    api = api_of(employer["rest"], key)
    response = api.post("/subscriptions", body)
    assert response.status_code == 400, response.content
    assert name in [issue["name"] for issue in response.json()["issues"]]
    assert api.get("/subscriptions").json()["items"] == []


def test_a_client_has_a_limited_number_of_subscriptions(employer, key, local_http):
    local_http.WEBHOOK_MAX_SUBSCRIPTIONS_PER_CLIENT = 2
    api = api_of(employer["rest"], key)
    for _ in range(2):
        assert api.post("/subscriptions", {"url": "http://127.0.0.1:9/hook"}).status_code == 201
    refused = api.post("/subscriptions", {"url": "http://127.0.0.1:9/hook"})
    assert refused.status_code == 400
    assert "at most" in refused.json()["issues"][0]["detail"]
