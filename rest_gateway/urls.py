"""The REST API under /REST/presenceRegistration/v1/ (spec §6); unknown paths answer a 404 problem."""

from typing import cast

from django.conf import settings
from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

from rest_gateway import apis, feed_apis, inspection_apis, request_log_apis

urlpatterns = [
    path("presenceRegistrations", apis.PresenceRegistrationListApi.as_view(), name="rest-list"),
    path("presenceRegistrations/registerInBulk", apis.RegisterInBulkApi.as_view(), name="rest-register"),
    path("presenceRegistrations/cancelInBulk", apis.CancelInBulkApi.as_view(), name="rest-cancel"),
    path("presenceRegistrations/search", apis.SearchApi.as_view(), name="rest-search"),
    path("presenceRegistrations/<int:id>", apis.PresenceRegistrationApi.as_view(), name="rest-get"),
    path(
        "presenceRegistrations/<int:id>/history",
        apis.PresenceRegistrationHistoryApi.as_view(),
        name="rest-history",
    ),
    path("performances", apis.PerformancesApi.as_view(), name="rest-performances"),
    path("performances/search", apis.PerformanceSearchApi.as_view(), name="rest-performances-search"),
    path("placesOfWork/addresses", apis.AddressesNearApi.as_view(), name="rest-addresses"),
    path("refData/remarks", apis.RemarksApi.as_view(), name="rest-remarks"),
    path("refData/remarks/<str:code>", apis.RemarkApi.as_view(), name="rest-remark"),
    path("refData/activities", apis.ActivitiesApi.as_view(), name="rest-activities"),
    path("refData/activities/<str:code>", apis.ActivityApi.as_view(), name="rest-activity"),
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(authentication_classes=[], permission_classes=[], throttle_classes=[]),
        name="rest-openapi",
    ),
    path(
        "doc",
        # Split: the init script comes from this URL (?script=), not inline (CSP, settings).
        SpectacularSwaggerSplitView.as_view(
            url_name="rest-doc-schema", authentication_classes=[], permission_classes=[]
        ),
        name="rest-doc",
    ),
    path(
        "doc/openapi.json",
        # The page's copy of the schema: Authorize takes a pasted bearer token (rest_gateway.schema).
        SpectacularJSONAPIView.as_view(
            authentication_classes=[],
            permission_classes=[],
            throttle_classes=[],
            custom_settings={
                "POSTPROCESSING_HOOKS": [
                    *cast(list[str], settings.SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]),
                    "rest_gateway.schema.bearer_for_the_documentation_page",
                ]
            },
        ),
        name="rest-doc-schema",
    ),
]
# Inspection only (issue 7): the workplace snapshot as JSON, CSV, PDF; who consulted a worker.
urlpatterns += [
    path("inspection/snapshot", inspection_apis.InspectionSnapshotApi.as_view(), name="rest-inspection-snapshot"),
    path("inspection/snapshot.csv", inspection_apis.InspectionSnapshotCsvApi.as_view(), name="rest-inspection-csv"),
    path("inspection/snapshot.pdf", inspection_apis.InspectionSnapshotPdfApi.as_view(), name="rest-inspection-pdf"),
    path("inspection/workerAccesses", inspection_apis.WorkerAccessesApi.as_view(), name="rest-worker-accesses"),
]
# The client's own request log (issue 16): its calls, and one by its ticket.
urlpatterns += [
    path("requestLogs", request_log_apis.RequestLogListApi.as_view(), name="rest-request-logs"),
    path("requestLogs/<uuid:ticketId>", request_log_apis.RequestLogApi.as_view(), name="rest-request-log"),
]

# The feed (issue 18, docs/feed.md): the caller's events by cursor, and webhook subscriptions.
urlpatterns += [
    path("events", feed_apis.FeedEventsApi.as_view(), name="rest-events"),
    path("subscriptions", feed_apis.SubscriptionsApi.as_view(), name="rest-subscriptions"),
    path("subscriptions/<uuid:id>", feed_apis.SubscriptionApi.as_view(), name="rest-subscription"),
    path(
        "subscriptions/<uuid:id>/rotateSecret",
        feed_apis.SubscriptionSecretApi.as_view(),
        name="rest-subscription-secret",
    ),
]
