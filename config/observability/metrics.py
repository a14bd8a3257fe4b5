"""The service's Prometheus metrics, counted where things happen (docs/operations.md).

Counters and histograms only: each increment is a few hundred nanoseconds in process memory
(or in a memory-mapped file under PROMETHEUS_MULTIPROC_DIR, shared by the gunicorn workers and
Celery processes of a machine), never a database write. What the database knows (the waiting
registrations, the earliest certificate expiry) is read when Prometheus scrapes
(`collectors.py`), never counted here.

Every label takes a bounded set of values: operation names, codes of the contract, sectors,
channels, task names. Never an id, a client or anything a client chose.
"""

from prometheus_client import Counter, Histogram

SUCCESS = "success"
CLIENT_ERROR = "client_error"
SERVER_ERROR = "server_error"
RATE_LIMITED = "rate_limited"

REQUESTS = Counter(
    "presence_requests",
    "Calls to the gateways, by gateway (soap, rest), operation and outcome "
    "(success, client_error, server_error, rate_limited).",
    ["gateway", "operation", "outcome"],
)
REQUEST_DURATION = Histogram(
    "presence_request_duration_seconds",
    "Time to answer a gateway call, from the first middleware to the last byte handed to the server.",
    ["gateway", "operation", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RATE_LIMIT_REFUSALS = Counter(
    "presence_rate_limit_refusals",
    "Calls refused because the client is over its rate limit (HTTP 429), by gateway and operation.",
    ["gateway", "operation"],
)
REGISTRATIONS_ACCEPTED = Counter(
    "presence_registrations_accepted",
    "Registrations stored (a resent one is not counted again), by sector and channel.",
    ["sector", "channel"],
)
ITEM_ERRORS = Counter(
    "presence_item_errors",
    "Items refused with a per-item error code (1-20), by operation (register, cancel), channel and code.",
    ["operation", "channel", "code"],
)
SOAP_FAULTS = Counter(
    "presence_soap_faults",
    "SOAP faults answered, by platform code (SOA-xxxxx).",
    ["code"],
)
REST_PROBLEMS = Counter(
    "presence_rest_problems",
    "REST problems answered, by problem type (the last part of its URN, or about:blank).",
    ["type"],
)
VALIDATION_LAG = Histogram(
    "presence_validation_lag_seconds",
    "From a registration's creation to its first validation.",
    buckets=(0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0),
)
VALIDATIONS = Counter(
    "presence_validations",
    "Verdicts written: kind validated (first validation) or revalidated (a change), by resulting status.",
    ["kind", "status"],
)
REMARKS = Counter(
    "presence_remarks",
    "Remarks given by a verdict (validation or a revalidation that changed it), by remark number.",
    ["remark"],
)
TOKENS_ISSUED = Counter(
    "presence_oauth_tokens_issued",
    "REST access tokens issued by the token endpoint.",
)
CELERY_TASKS = Counter(
    "presence_celery_tasks",
    "Celery task runs by task name and outcome (success, failure, retry).",
    ["task", "outcome"],
)
CELERY_TASK_DURATION = Histogram(
    "presence_celery_task_duration_seconds",
    "Time a Celery task ran, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
