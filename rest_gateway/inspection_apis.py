"""Inspection-only operations (issue 7): the workplace snapshot and worker transparency.

Scope `inspection` only. The snapshot is answered as JSON, CSV or PDF (three paths, one
service); every registration it shows gets a `registration.consulted` event. The worker
transparency list takes the NISS in the POST body, never in the URL (spec §9).
"""

import logging
from datetime import date
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request
from rest_framework.response import Response

from registrations.domain.exceptions import ItemError
from registrations.domain.identifiers import normalise_workplace_id
from registrations.selectors.inspection import Snapshot, SnapshotRow, inspection_snapshot
from registrations.selectors.transparency import Access, InvalidNissError, worker_accesses
from rest_gateway import serializers as s
from rest_gateway.apis import GatewayApi
from rest_gateway.auth import SCOPE_INSPECTION
from rest_gateway.errors import InputValidationError
from rest_gateway.inspection_exports import snapshot_csv, snapshot_pdf

INSPECTION = frozenset({SCOPE_INSPECTION})
audit = logging.getLogger("rest_gateway.audit")


class _SnapshotParameters(s.StrictSerializer):
    workplaceId = s.StrictCharField(max_length=20)  # noqa: N815 - the query parameter's name
    date = s.StrictDateField(required=False)


class _WorkerAccessIn(s.StrictSerializer):
    ssin = s.StrictCharField(max_length=20)


class _SnapshotRowOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    sector = serializers.IntegerField()
    ssin = serializers.CharField(allow_null=True)
    limosaId = serializers.CharField(allow_null=True)  # noqa: N815 - the public name
    worker = s.WorkerOut()
    employer = serializers.CharField()
    onSiteSince = serializers.DateTimeField(allow_null=True)  # noqa: N815 - the public name
    status = serializers.CharField()
    validity = serializers.CharField()
    remarks = serializers.ListField(child=serializers.DictField())


class _SnapshotOut(serializers.Serializer[Any]):
    workplaceId = serializers.CharField()  # noqa: N815 - the public name
    date = serializers.DateField()
    takenAt = serializers.DateTimeField()  # noqa: N815 - the public name
    items = _SnapshotRowOut(many=True)


class _AccessOut(serializers.Serializer[Any]):
    consultedAt = serializers.DateTimeField()  # noqa: N815 - the public name
    consultedBy = serializers.CharField()  # noqa: N815 - the public name
    actor = serializers.CharField()
    channel = serializers.CharField()
    registrationId = serializers.IntegerField()  # noqa: N815 - the public name
    registrationDate = serializers.DateField()  # noqa: N815 - the public name
    workplaceId = serializers.CharField()  # noqa: N815 - the public name


class _AccessesOut(serializers.Serializer[Any]):
    items = _AccessOut(many=True)


_SNAPSHOT_PARAMETERS = [
    OpenApiParameter("workplaceId", str, OpenApiParameter.QUERY, required=True, description="the Declaration of Works"),
    OpenApiParameter("date", OpenApiTypes.DATE, OpenApiParameter.QUERY, description="default: today (Brussels)"),
]


def _invalid(name: str, message: str, location: str) -> InputValidationError:
    return InputValidationError({name: [ErrorDetail(message, code="invalid_input")]}, location=location)


def _row_out(row: SnapshotRow) -> dict[str, Any]:
    return {
        "id": row.registration_id,
        "sector": row.sector,
        "ssin": row.niss or None,
        "limosaId": row.limosa_id or None,
        "worker": {"givenName": row.given_name, "familyName": row.family_name},
        "employer": row.employer,
        "onSiteSince": timezone.localtime(row.on_site_since).isoformat() if row.on_site_since else None,
        "status": row.status,
        "validity": row.validity,
        "remarks": row.remarks,
    }


def _access_out(access: Access) -> dict[str, Any]:
    return {
        "consultedAt": timezone.localtime(access.occurred_at).isoformat(),
        "consultedBy": access.who,
        "actor": access.actor,
        "channel": access.channel,
        "registrationId": access.registration_id,
        "registrationDate": access.registration_date.isoformat(),
        "workplaceId": access.workplace_id,
    }


class InspectionSnapshotApi(GatewayApi):
    required_scopes = {"GET": INSPECTION}
    query_parameters = ("workplaceId", "date")

    def snapshot(self, request: Request) -> Snapshot:
        """Validates the query, takes the snapshot and records inspection's reads of it."""
        serializer = _SnapshotParameters(data=dict(request.query_params.items()))
        if not serializer.is_valid():
            raise InputValidationError(serializer.errors, location="query")
        workplace = normalise_workplace_id(serializer.validated_data["workplaceId"])
        if isinstance(workplace, ItemError):
            raise _invalid("workplaceId", workplace.description, "query")
        day: date = serializer.validated_data.get("date") or timezone.localdate()
        snapshot = inspection_snapshot(caller=self.caller, workplace_id=workplace, day=day, now=timezone.now())
        self.consulted(snapshot.shown)
        return snapshot

    @extend_schema(
        operation_id="getInspectionSnapshot",
        parameters=_SNAPSHOT_PARAMETERS,
        responses={200: _SnapshotOut},
        summary="Who is registered (construction, meat) or on site (cleaning: open INs) at a workplace on a day",
    )
    def get(self, request: Request) -> Response | HttpResponse:
        snapshot = self.snapshot(request)
        return Response(
            {
                "workplaceId": snapshot.workplace_id,
                "date": snapshot.day.isoformat(),
                "takenAt": timezone.localtime(snapshot.taken_at).isoformat(),
                "items": [_row_out(row) for row in snapshot.rows],
            }
        )


class _FileSnapshotApi(InspectionSnapshotApi):
    """The same snapshot as a file: content negotiation does not apply (the path says it)."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)

    def attachment(self, snapshot: Snapshot, content: bytes | str, content_type: str, extension: str) -> HttpResponse:
        response = HttpResponse(content, content_type=content_type)
        name = f"snapshot-{snapshot.workplace_id}-{snapshot.day.isoformat()}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class InspectionSnapshotCsvApi(_FileSnapshotApi):
    @extend_schema(
        operation_id="getInspectionSnapshotCsv",
        parameters=_SNAPSHOT_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="The inspection snapshot as CSV",
    )
    def get(self, request: Request) -> Response | HttpResponse:
        snapshot = self.snapshot(request)
        return self.attachment(snapshot, snapshot_csv(snapshot), "text/csv; charset=utf-8", "csv")


class InspectionSnapshotPdfApi(_FileSnapshotApi):
    @extend_schema(
        operation_id="getInspectionSnapshotPdf",
        parameters=_SNAPSHOT_PARAMETERS,
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        summary="The inspection snapshot as PDF",
    )
    def get(self, request: Request) -> Response | HttpResponse:
        snapshot = self.snapshot(request)
        return self.attachment(snapshot, snapshot_pdf(snapshot), "application/pdf", "pdf")


class WorkerAccessesApi(GatewayApi):
    required_scopes = {"POST": INSPECTION}

    @extend_schema(
        operation_id="listWorkerAccesses",
        request=_WorkerAccessIn,
        responses={200: _AccessesOut},
        summary="Who consulted a worker's registrations and when (the NISS travels in the body)",
    )
    def post(self, request: Request) -> Response:
        """Who consulted the registrations of the person in the body, newest first."""
        body = self.body(_WorkerAccessIn)
        try:
            accesses = worker_accesses(niss=body["ssin"])
        except InvalidNissError as exc:
            raise _invalid("ssin", str(exc), "body") from exc
        audit.info("worker access list shown to %s (%d rows)", self.caller.actor, len(accesses))
        return Response({"items": [_access_out(access) for access in accesses]})
