"""The floor of a check-in over HTTP: a minimal Django view (same handler and middleware as
the service) that parses the JSON item and does one INSERT of the same row into a scratch
copy of the registrations table (bench_floor_registration, made by bench/checkin_load.py)."""

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

COLUMNS = (
    "sector, channel, sender_enterprise_number, sender_role, created_at, registration_date, niss, limosa_id, "
    "enterprise_number, foreign_vat_number, workplace_id, client_reference, submitted, status, remark_mask, "
    "cancellation_reason, event_type, event_at, activity, latitude, longitude, dedup_key"
)


@csrf_exempt
def floor_view(request: HttpRequest) -> JsonResponse:
    item = json.loads(request.body)["items"][0]
    at = item["registrationDate"]
    coordinates = item["placeOfWork"]["coordinates"]
    row = (
        4, "REST", item["employer"]["enterpriseNumber"], "enterprise", timezone.now(), at[:10], item["ssin"], "",
        item["employer"]["enterpriseNumber"], "", item["contractualRelationshipReference"], "", json.dumps(item),
        "registered", 0, "", "IN", at, "", coordinates["latitude"], coordinates["longitude"],
        f"C|{item['ssin']}|{item['contractualRelationshipReference']}|IN|{at[:16]}",
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO bench_floor_registration ({COLUMNS}) VALUES ({', '.join(['%s'] * len(row))})", row)
    return JsonResponse({"stored": 1})


urlpatterns = [path("bench/floor", floor_view)]
