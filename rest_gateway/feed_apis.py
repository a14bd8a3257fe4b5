"""The feed over REST (docs/feed.md): `GET /events` and the webhook subscriptions.

Thin views over `feed.selectors` and `feed.services`. Any client role may read its events and
subscribe (the consult scopes); what each one sees is decided by the core's visibility, as
for get and search. Unlike the other reads of this service, the feed covers every sector:
it is how a SOAP integrator (construction, meat) follows its registrations, through a REST
client of its enterprise (docs/adr/0017). Inspection's reads of the feed are recorded.
"""

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from feed.domain import FeedEventType, InvalidCursorError, cursor_of, position_of
from feed.selectors import DEFAULT_LIMIT, MAX_LIMIT, feed_page, subscription_of, subscriptions_of
from feed.services.subscriptions import (
    SubscriptionError,
    SubscriptionNotFoundError,
    subscription_create,
    subscription_delete,
    subscription_rotate_secret,
)
from rest_gateway.apis import GatewayApi
from rest_gateway.auth import CONSULT
from rest_gateway.errors import InputValidationError
from rest_gateway.serializers import StrictCharField, StrictChoiceField, StrictSerializer

if TYPE_CHECKING:
    from feed.models import Subscription

EVENT_TYPES = list(FeedEventType.values)
SUBSCRIPTION_STATUSES = ["active", "disabled"]


# --- shapes (camelCase: the public JSON) ------------------------------------------------------


class RemarkRefOut(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    code = serializers.CharField()


class FeedEmployerOut(serializers.Serializer[Any]):
    enterpriseNumber = serializers.CharField(required=False)
    foreignVatNumber = serializers.CharField(required=False)


class FeedRegistrationOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    sector = serializers.ChoiceField(choices=["construction", "security", "meat", "cleaning"])
    channel = serializers.CharField()
    registrationDate = serializers.DateField()
    contractualRelationshipReference = serializers.CharField()
    employer = FeedEmployerOut()
    customReference = serializers.CharField(required=False)
    type = serializers.CharField(required=False, help_text="cleaning events: in or out")
    moment = serializers.DateTimeField(required=False, help_text="cleaning events: when it happened")


class FeedEventDataOut(serializers.Serializer[Any]):
    registration = FeedRegistrationOut()
    remarks = RemarkRefOut(many=True, required=False, help_text="validated and failed events")
    revalidation = serializers.BooleanField(required=False, help_text="validated and failed events")
    reason = serializers.CharField(required=False, help_text="cancelled events")
    correction = serializers.IntegerField(required=False, help_text="corrected events: the correcting registration")


class FeedEventOut(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="the event's id, also the webhook-id of its deliveries")
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    timestamp = serializers.DateTimeField()
    data = FeedEventDataOut()  # type: ignore[assignment]  # the Standard Webhooks property, not Serializer.data


class FeedPageOut(serializers.Serializer[Any]):
    items = FeedEventOut(many=True)
    cursor = serializers.CharField(help_text="give it back as `after` to read on")
    next = serializers.URLField(help_text="this operation again, after the cursor")
    hasMore = serializers.BooleanField(help_text="whether more events are already there")


class SubscriptionIn(StrictSerializer):
    url = StrictCharField(max_length=2048, help_text="https:// URL the events are POSTed to")
    eventTypes = serializers.ListField(
        child=StrictChoiceField(choices=EVENT_TYPES), required=False, min_length=1, max_length=len(EVENT_TYPES)
    )
    contractualRelationshipReference = StrictCharField(
        required=False, max_length=13, help_text="only the events of this workplace (Declaration of Works)"
    )


class SubscriptionOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    url = serializers.CharField()
    eventTypes = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES))
    contractualRelationshipReference = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=SUBSCRIPTION_STATUSES)
    createdAt = serializers.DateTimeField()
    disabledAt = serializers.DateTimeField(allow_null=True)
    disabledReason = serializers.CharField(allow_blank=True)
    failingSince = serializers.DateTimeField(allow_null=True)
    lastDeliveredAt = serializers.DateTimeField(allow_null=True)


class SubscriptionsOut(serializers.Serializer[Any]):
    items = SubscriptionOut(many=True)


class SecretOut(serializers.Serializer[Any]):
    secret = serializers.CharField(help_text="whsec_…: shown this once; verify signatures with it")
    previousSecretExpiresAt = serializers.DateTimeField(
        allow_null=True, help_text="until then, messages also carry a signature by the previous secret"
    )


class CreatedSubscriptionOut(SubscriptionOut):
    secret = serializers.CharField(help_text="whsec_…: shown this once; verify signatures with it")


def _instant(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _subscription_out(subscription: "Subscription") -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": str(subscription.id),
        "url": subscription.target_url,
        "eventTypes": list(subscription.event_types),
        "status": subscription.state,
        "createdAt": _instant(subscription.created_at),
        "disabledAt": _instant(subscription.disabled_at),
        "disabledReason": subscription.disabled_reason,
        "failingSince": _instant(subscription.failing_since),
        "lastDeliveredAt": _instant(subscription.last_delivered_at),
    }
    if subscription.workplace_id:
        shown["contractualRelationshipReference"] = subscription.workplace_id
    return shown


def _bad(field: str, message: str, location: str = "body") -> InputValidationError:
    return InputValidationError({field: [ErrorDetail(message, code="invalid_input")]}, location)


# --- operations --------------------------------------------------------------------------------


class FeedEventsApi(GatewayApi):
    required_scopes: ClassVar[dict[str, frozenset[str]]] = {"GET": CONSULT}
    query_parameters = ("after", "limit")

    @extend_schema(
        operation_id="listEvents",
        parameters=[
            OpenApiParameter("after", str, OpenApiParameter.QUERY, description="the cursor of the previous page"),
            OpenApiParameter(
                "limit", int, OpenApiParameter.QUERY, description=f"1..{MAX_LIMIT} (default {DEFAULT_LIMIT})"
            ),
        ],
        responses={200: FeedPageOut},
        summary="The events of the registrations the client may see, oldest first, resumable by cursor",
    )
    def get(self, request: Request) -> Response:
        after, limit = self._after(request), self._limit(request)
        page = feed_page(caller=self.caller, after=after, limit=limit)
        self.consulted(page.registrations)
        cursor = cursor_of(page.cursor)
        next_url = request.build_absolute_uri(f"{request.path}?after={cursor}&limit={limit}")
        return Response({"items": page.items, "cursor": cursor, "next": next_url, "hasMore": page.more})

    @staticmethod
    def _after(request: Request) -> int:
        raw = request.query_params.get("after")
        if raw is None:
            return 0
        try:
            return position_of(raw)
        except InvalidCursorError as exc:
            raise _bad("after", "not a cursor of this feed: give back the `cursor` of a page", "query") from exc

    @staticmethod
    def _limit(request: Request) -> int:
        raw = request.query_params.get("limit")
        if raw is None:
            return DEFAULT_LIMIT
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= MAX_LIMIT):
            raise _bad("limit", f"must be an integer between 1 and {MAX_LIMIT}", "query")
        return int(raw)


class SubscriptionsApi(GatewayApi):
    required_scopes: ClassVar[dict[str, frozenset[str]]] = {"GET": CONSULT, "POST": CONSULT}

    @extend_schema(operation_id="listSubscriptions", responses={200: SubscriptionsOut})
    def get(self, request: Request) -> Response:
        return Response({"items": [_subscription_out(s) for s in subscriptions_of(caller=self.caller)]})

    @extend_schema(
        operation_id="createSubscription",
        request=SubscriptionIn,
        responses={201: CreatedSubscriptionOut},
        summary="Subscribe a URL to events (Standard Webhooks, signed with the secret answered once)",
    )
    def post(self, request: Request) -> Response:
        body = self.body(SubscriptionIn)
        try:
            made = subscription_create(
                caller=self.caller,
                target_url=body["url"],
                event_types=body.get("eventTypes"),
                workplace_id=body.get("contractualRelationshipReference"),
            )
        except SubscriptionError as exc:
            raise _bad(exc.field, exc.message) from exc
        return Response({**_subscription_out(made.subscription), "secret": made.secret}, status=201)


class SubscriptionApi(GatewayApi):
    required_scopes: ClassVar[dict[str, frozenset[str]]] = {"GET": CONSULT, "DELETE": CONSULT}

    @extend_schema(operation_id="getSubscription", responses={200: SubscriptionOut})
    def get(self, request: Request, id: UUID) -> Response:
        subscription = subscription_of(caller=self.caller, subscription_id=id)
        if subscription is None:
            raise NotFound
        return Response(_subscription_out(subscription))

    @extend_schema(operation_id="deleteSubscription", responses={204: None})
    def delete(self, request: Request, id: UUID) -> Response:
        try:
            subscription_delete(caller=self.caller, subscription_id=id)
        except SubscriptionNotFoundError as exc:
            raise NotFound from exc
        return Response(status=204)


class SubscriptionSecretApi(GatewayApi):
    required_scopes: ClassVar[dict[str, frozenset[str]]] = {"POST": CONSULT}

    @extend_schema(
        operation_id="rotateSubscriptionSecret",
        request=None,
        responses={200: SecretOut},
        summary="A new secret; the previous one keeps signing beside it during the overlap",
    )
    def post(self, request: Request, id: UUID) -> Response:
        try:
            rotated = subscription_rotate_secret(caller=self.caller, subscription_id=id)
        except SubscriptionNotFoundError as exc:
            raise NotFound from exc
        return Response(
            {"secret": rotated.secret, "previousSecretExpiresAt": _instant(rotated.previous_secret_expires_at)}
        )
