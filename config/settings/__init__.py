"""Settings for every environment, switched by environment variables (see .env.example).

With no variable set the service runs on the embedded default: SQLite (WAL, IMMEDIATE
transactions) and Celery tasks executed in-process after commit. `DATABASE_URL` and
`CELERY_BROKER_URL` switch to PostgreSQL and Redis with real workers.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.database import database_settings
from config.env import (
    env_bool,
    env_choice,
    env_int,
    env_int_list,
    env_list,
    env_networks,
    env_origins,
    env_proxy_ssl_header,
    env_rate,
    env_str,
    env_url,
)
from config.logging import LOG_FORMATS, build_logging

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DATABASE_URL = env_url("DATABASE_URL", ("postgres", "postgresql"))
EMBEDDED = not DATABASE_URL
# Production is PostgreSQL. The test settings run these settings on a throw-away PostgreSQL
# with throw-away keys over plain HTTP, so they alone are spared the production guard.
PRODUCTION = not EMBEDDED and os.environ.get("DJANGO_SETTINGS_MODULE") != "config.settings.test"

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not EMBEDDED:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DATABASE_URL is set")
    # The embedded default is for a laptop: a fixed, clearly unsafe key is acceptable there.
    SECRET_KEY = "embedded-default-insecure-key-do-not-use-in-production"  # noqa: S105

# Production names its hosts itself (the guard below); the loopback defaults are for a laptop.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])

# --- HTTPS (docs/deploy.md): secure by default in production; the embedded default
# (`make run`, http://127.0.0.1) stays on plain HTTP. Behind a TLS proxy, name the header in
# which it passes the scheme, and the public origins the admin's forms are posted from.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", default=PRODUCTION)
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("DJANGO_SECURE_PROXY_SSL_HEADER")
CSRF_TRUSTED_ORIGINS = env_origins("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- Operators' sessions: an office day at most, and logged out when idle ------------------
# Every request with a session moves its expiry SESSION_COOKIE_AGE ahead (the idle timeout);
# registrations.admin.sessions ends it SESSION_MAX_AGE_SECONDS after login, however active.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_TIMEOUT_SECONDS", 3600, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_MAX_AGE_SECONDS = env_int("SESSION_MAX_AGE_SECONDS", 10 * 3600, minimum=60)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "registrations",
    "history",
    "requestlog",
    "sandbox",
    "feed",
    "soap_gateway",
    "rest_gateway",
    "conformance",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "registrations.admin.sessions.SessionMaxAgeMiddleware",
    # Last, as django-axes requires: it answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

# /PresenceRegistration/v1 must answer a POST without a trailing slash: never redirect it.
APPEND_SLASH = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The console's frame (admin/base_site.html: the service's name, the language switch)
        # must win over the admin's own, whose app comes first.
        "DIRS": [BASE_DIR / "registrations" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

SQLITE_PATH = Path(env_str("SQLITE_PATH") or BASE_DIR / "var" / "presence.sqlite3")
CONN_MAX_AGE = env_int("DJANGO_CONN_MAX_AGE", 60, minimum=0)
# PostgreSQL: a psycopg pool per process and alias (config/database.py; sizing in
# docs/deploy.md, "Connections"). DATABASE_POOL_MAX_SIZE=0: no pool, persistent connections of
# DJANGO_CONN_MAX_AGE seconds instead (behind PgBouncer). Four: a readiness probe reads on three
# connections at once (config/observability/health.py) beside the request's own.
DATABASE_POOL_MIN_SIZE = env_int("DATABASE_POOL_MIN_SIZE", 1, minimum=0)
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 4, minimum=0)
DATABASE_POOL_TIMEOUT = env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1)
# PgBouncer in transaction mode cannot keep a cursor across transactions: set it to 0 there.
DATABASE_SERVER_SIDE_CURSORS = env_bool("DATABASE_SERVER_SIDE_CURSORS", default=True)


def _database(url: str) -> dict[str, Any]:
    return database_settings(
        url,
        pool_min_size=DATABASE_POOL_MIN_SIZE,
        pool_max_size=DATABASE_POOL_MAX_SIZE,
        pool_timeout=DATABASE_POOL_TIMEOUT,
        conn_max_age=CONN_MAX_AGE,
        server_side_cursors=DATABASE_SERVER_SIDE_CURSORS,
    )


if EMBEDDED:
    SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    # Created owner-only before SQLite first opens it; SQLite gives its -wal and -shm files
    # the database file's mode.
    os.close(os.open(SQLITE_PATH, os.O_WRONLY | os.O_CREAT, 0o600))
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # IMMEDIATE takes the write lock up front, so a read-then-write transaction
                # never fails to upgrade its lock while a worker writes (stack notes §9).
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not :memory:, so a real worker process can share the test database.
            "TEST": {"NAME": str(SQLITE_PATH.with_name(f"test_{SQLITE_PATH.stem}.sqlite3"))},
        }
    }
else:
    DATABASES = {"default": _database(DATABASE_URL)}

# --- Read replica (docs/deploy.md) ----------------------------------------------------------
# Set: searches and single reads (the selectors marked @replica_reads) go to this streaming
# replica; every write, every other read and any read inside a transaction stay on the primary.
# Unset (the default): one database, no router.
DATABASE_REPLICA_URL = env_url("DATABASE_REPLICA_URL", ("postgres", "postgresql"))
if DATABASE_REPLICA_URL:
    if EMBEDDED:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL (a PostgreSQL primary)")
    DATABASES["replica"] = _database(DATABASE_REPLICA_URL)
    DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Admin login lockout (django-axes, docs/deploy.md) --------------------------------------
# Failures are counted per username in the database, so the limit holds across every web
# process and machine; whatever the address, which behind a TLS proxy is the proxy's. A
# locked username gets 429 until the cool-off ends or `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = True  # a WARNING line per failed login
# The username and address as given are what an operator needs to see an attack (axes masks
# both by default); the password is always masked.
AXES_SENSITIVE_PARAMETERS: list[str] = []
# axes.W006 asks to lock by address as well: behind a TLS proxy every operator shares the
# proxy's address, so five typos by one would lock them all out. The username lock stands.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- Content-Security-Policy (django-csp): nothing inline runs unless it carries the request's
# nonce. The admin and the dashboard need no exception; Swagger UI (/REST/.../doc) loads its
# init script from its own URL (SpectacularSwaggerSplitView) and keeps one inline <style>
# block of drf-spectacular's template, allowed by its hash.
SWAGGER_UI_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"  # drf-spectacular 0.30.0
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE, SWAGGER_UI_STYLE_HASH],
        "img-src": [SELF, "data:"],  # Swagger UI's icons are data: URIs
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("nl", "Nederlands"), ("fr", "Français"), ("de", "Deutsch"), ("en", "English")]
TIME_ZONE = "Europe/Brussels"  # dates are decided in Brussels; timestamps are stored in UTC
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Request bodies: SOAP envelopes of 200 items are ~30 kB; 2 MB leaves room and stops abuse.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_BODY_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)

# Where `seed_demo` writes the demo clients' keys, certificates and ids.
DEMO_CREDENTIALS_DIR = Path(env_str("DEMO_CREDENTIALS_DIR") or BASE_DIR / "var" / "demo")

# --- Reverse geocoding (registrations/registers/geocoding.py) -------------------------------
# An optional external geocoder, asked in a Celery task when the address register has no
# address near a registration's coordinates: GET {GEOCODER_URL}?lat=..&lon=.. -> JSON
# {"address": {...}, "distanceMeters": n}. Empty = the register only.
GEOCODER_URL = env_url("GEOCODER_URL", ("http", "https"))
GEOCODER_TIMEOUT_SECONDS = env_int("GEOCODER_TIMEOUT_SECONDS", 3, minimum=1)
# Coordinates still without an address this long after their registration was created (a lost
# hand-off, a geocoder down through every retry) are handed to the geocoder again by the
# geocoding sweep, which runs with the validation sweeper.
GEOCODING_REQUEUE_AFTER_SECONDS = env_int("GEOCODING_REQUEUE_AFTER_SECONDS", 900, minimum=1)

# --- Privacy: NISS numbers are logged only as a keyed hash (spec §9) -----------------------
# Production requires its own key, so the log tokens survive a rotation of the secret key.
NISS_HASH_KEY = env_str("NISS_HASH_KEY") or ("" if PRODUCTION else SECRET_KEY)

# --- Validation hand-off (outbox) ---------------------------------------------------------
# A registration still waiting this long after creation is queued again by the sweeper.
VALIDATION_REQUEUE_AFTER_SECONDS = env_int("VALIDATION_REQUEUE_AFTER_SECONDS", 120, minimum=1)
VALIDATION_SWEEP_INTERVAL_SECONDS = env_int("VALIDATION_SWEEP_INTERVAL_SECONDS", 60, minimum=1)
REVALIDATION_WINDOW_DAYS = env_int("REVALIDATION_WINDOW_DAYS", 35, minimum=1)
REVALIDATION_SWEEP_INTERVAL_SECONDS = env_int("REVALIDATION_SWEEP_INTERVAL_SECONDS", 3600, minimum=60)

# --- Celery (namespace CELERY_) -------------------------------------------------------------
_BROKER_URL = env_url("CELERY_BROKER_URL", ("redis", "rediss"))
# No broker: run tasks in-process. They are still queued with on_commit, so they run after
# the registration is committed, exactly as a worker would see it. ("memory://" only keeps
# kombu from looking for a broker on localhost; nothing is ever published to it.)
CELERY_TASK_ALWAYS_EAGER = not _BROKER_URL
CELERY_BROKER_URL = _BROKER_URL or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died is redelivered after this many seconds (acks_late).
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900, minimum=10),
    # How often workers look for such abandoned tasks. kombu's default is every ~100 s
    # (interval 10 s x throttle 10); one small ZRANGE every 5 s is cheap.
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# While Redis is down a publish must fail fast: the registration is already committed and
# the sweeper queues it again later, so a long retry would only delay the client.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE = {
    "requeue-waiting-validations": {
        "task": "registrations.tasks.requeue_waiting_validations",
        "schedule": float(VALIDATION_SWEEP_INTERVAL_SECONDS),
    },
    "requeue-unplaced-registrations": {
        "task": "registrations.tasks.requeue_unplaced_registrations",
        "schedule": float(VALIDATION_SWEEP_INTERVAL_SECONDS),
    },
    "revalidate-recent-failures": {
        "task": "registrations.tasks.revalidate_recent_failures",
        "schedule": float(REVALIDATION_SWEEP_INTERVAL_SECONDS),
    },
}
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "celery"  # Celery's own default, named: the queue-length gauge reads it

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL must be a logging level name, got {LOG_LEVEL!r}")
# `json`: one JSON object per line (docs/operations.md); both formats carry the request id.
LOG_FORMAT = env_choice("LOG_FORMAT", "text", LOG_FORMATS)
LOGGING = build_logging(LOG_LEVEL, LOG_FORMAT)
LOGGING_CONFIG = "config.logging.configure_logging"  # uncaught exceptions are logged, redacted

# --- SOAP gateway (soap_gateway/, docs/soap.md) ---------------------------------------------
# The public address written into the served WSDL; empty = the address the request used.
SOAP_PUBLIC_URL = env_str("SOAP_PUBLIC_URL")
# Bodies above this size get a SOAP fault before anything is parsed (spec §9: ~2 MB).
SOAP_BODY_MAX_BYTES = env_int("SOAP_BODY_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
# WS-Security: a signed Timestamp older than this is refused (the platform's 5 minutes).
SOAP_TIMESTAMP_MAX_AGE_SECONDS = env_int("SOAP_TIMESTAMP_MAX_AGE_SECONDS", 300, minimum=1)
# Trusted-proxy mode: a TLS proxy that verified the client certificate passes it (PEM,
# URL-escaped) in this header; accepted only from these addresses. Empty list = off.
SOAP_TRUSTED_PROXIES = env_list("SOAP_TRUSTED_PROXIES", [])
SOAP_PROXY_CERT_HEADER = env_str("SOAP_PROXY_CERT_HEADER", "X-SSL-Client-Cert")

# --- REST gateway (rest_gateway/, docs/rest.md) -----------------------------------------------
INSTALLED_APPS += ["drf_spectacular_sidecar"]  # Swagger UI assets served locally, never a CDN
# First: answers problem+json for everything under /REST/ that never reaches DRF.
MIDDLEWARE.insert(0, "rest_gateway.errors.ProblemDetailsMiddleware")
# The SOAP counterpart: any error page under /PresenceRegistration/ becomes a SOAP fault.
MIDDLEWARE.insert(0, "soap_gateway.middleware.SoapErrorMiddleware")
REST_FRAMEWORK.update(
    {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_gateway.auth.BearerTokenAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_gateway.auth.ScopePermission"],
        "DEFAULT_THROTTLE_CLASSES": ["rest_gateway.throttling.ClientRateThrottle"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_gateway.parsers.IJsonParser"],
        "EXCEPTION_HANDLER": "rest_gateway.exception_handler.exception_handler",
        "DEFAULT_METADATA_CLASS": None,  # OPTIONS is a 405 like any method an operation lacks
        "UNAUTHENTICATED_USER": None,
    }
)
SPECTACULAR_SETTINGS = {
    "TITLE": "PresenceRegistration REST (cleaning)",
    "DESCRIPTION": "Real-time IN/OUT presence registration for cleaning work. See docs/rest.md.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.0.3",  # Belgif: OpenAPI 3.0
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/REST/presenceRegistration/v1",
    "SCHEMA_PATH_PREFIX_TRIM": True,
    "SERVERS": [{"url": "/REST/presenceRegistration/v1"}],
    "SERVE_INCLUDE_SCHEMA": False,
    # A registration's status and the search criterion take the same codes: one enum.
    "ENUM_NAME_OVERRIDES": {
        "PresenceStatusEnum": "rest_gateway.serializers.STATUSES",
        # A request log record's channel (soap, rest), not a registration's (WS, REST, ...).
        "RequestLogChannelEnum": "rest_gateway.request_log_apis.CHANNELS",
        # The feed's (rest_gateway/feed_apis.py) are named for what they are; its `type` field
        # must not rename the cleaning event's `TypeEnum` by collision.
        "TypeEnum": "rest_gateway.serializers.EVENT_TYPES",
        "FeedEventTypeEnum": "rest_gateway.feed_apis.EVENT_TYPES",
        "SubscriptionStatusEnum": "rest_gateway.feed_apis.SUBSCRIPTION_STATUSES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rest_gateway.schema.add_problem_responses",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
CELERY_BEAT_SCHEDULE["purge-expired-rest-credentials"] = {
    "task": "rest_gateway.tasks.purge_expired_credentials",
    "schedule": 3600.0,
}
# OAuth 2.0 token endpoint. Empty audiences = the token URL as the client addressed it;
# behind a reverse proxy list the exact public token URL(s) instead.
OAUTH_TOKEN_AUDIENCES = env_list("OAUTH_TOKEN_AUDIENCES", [])
OAUTH_ACCESS_TOKEN_SECONDS = env_int("OAUTH_ACCESS_TOKEN_SECONDS", 600, minimum=60)
# Token requests per client, counted apart from its API calls (a client needs one token per
# OAUTH_ACCESS_TOKEN_SECONDS); a client's own, smaller Client.rate_limit lowers it (ADR 0013).
OAUTH_TOKEN_RATE_LIMIT = env_rate("OAUTH_TOKEN_RATE_LIMIT", "60/minute")
# Bodies above this are refused with 413 before they are read (a 200-item batch is ~80 kB).
REST_MAX_BODY_BYTES = env_int("REST_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
# Per-client rate limits ("<n>/<second|minute|hour|day>"), one counter per client and
# gateway, both in REST_THROTTLE_CACHE; a client's own Client.rate_limit replaces either.
REST_RATE_LIMIT = env_rate("REST_RATE_LIMIT", "600/minute")
SOAP_RATE_LIMIT = env_rate("SOAP_RATE_LIMIT", "600/minute")
REST_THROTTLE_CACHE = "rest_throttle"
_REST_CACHE_URL = env_url("REST_CACHE_URL", ("redis", "rediss"))


def rate_limit_cache(url: str | None) -> dict[str, object]:
    """Redis: the limit holds across processes; memory: per process (embedded default).

    A Redis that accepts connections but never answers must not hang every call: after a
    second the counters fail open like an unreachable Redis (rest_gateway/throttling.py).
    """
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rest-throttle"}
    timeouts = {"socket_connect_timeout": 1, "socket_timeout": 1}
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "OPTIONS": timeouts}


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    REST_THROTTLE_CACHE: rate_limit_cache(_REST_CACHE_URL),
}
# --- Observability: health, metrics, the request id (config/observability/, docs/operations.md)
# First of all: the request id and the request metrics cover every other middleware's answer.
MIDDLEWARE.insert(0, "config.observability.middleware.ObservabilityMiddleware")
# /health/ready fails when the oldest registration waiting for validation is older than this
# (seconds); 0 leaves the validation backlog to the alert alone.
HEALTH_VALIDATION_MAX_AGE_SECONDS = env_int("HEALTH_VALIDATION_MAX_AGE_SECONDS", 900, minimum=0)
# A load balancer or an orchestrator probes over plain HTTP on an internal address, and
# Prometheus scrapes the same way: those paths are never redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)$", r"^metrics$"]
# /metrics admits a bearer token or a peer address in these networks; neither set: no one.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters")
# prometheus-client reads it from the environment itself; checked here so a typo stops the
# process at start rather than at its first increment.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(f"PROMETHEUS_MULTIPROC_DIR {PROMETHEUS_MULTIPROC_DIR!r} is not a directory")

# --- Retention (registrations/services/retention.py, docs/operators.md) ----------------------
# Once a day: registrations older than 7 years leave with their history, unless on legal hold.
CELERY_BEAT_SCHEDULE["purge-expired-registrations"] = {
    "task": "registrations.tasks.purge_expired_registrations",
    "schedule": 86400.0,
}
# PostgreSQL: every hour, pg_partman makes the months ahead of registrations and history
# (docs/adr/0019-partitioning-and-keys.md); a warning when fewer than 2 are ready. Nothing on SQLite.
CELERY_BEAT_SCHEDULE["maintain-partitions"] = {
    "task": "registrations.tasks.maintain_partitions",
    "schedule": 3600.0,
}


# --- Request log (requestlog/, docs/rest.md, docs/operators.md) ------------------------------
# Every SOAP and REST call, for the client that made it and the operators: first (outermost),
# so it times the whole call and records the answer as sent, written once it is sent.
MIDDLEWARE.insert(0, "soap_gateway.request_log.SoapRequestLog")
MIDDLEWARE.insert(0, "rest_gateway.request_log.RestRequestLog")
# Records are kept this many days, then purged daily; a request body is kept (NISS masked) up
# to this many characters, the rest cut (0 = no bodies). 256 KiB holds any 200-item call.
REQUEST_LOG_DAYS = env_int("REQUEST_LOG_DAYS", 30, minimum=1)
REQUEST_LOG_BODY_MAX_CHARS = env_int("REQUEST_LOG_BODY_MAX_CHARS", 262_144, minimum=0)
CELERY_BEAT_SCHEDULE["purge-expired-request-logs"] = {
    "task": "requestlog.tasks.purge_expired_request_logs",
    "schedule": 86400.0,
}


# --- Sandbox mode (sandbox/, docs/sandbox.md) ----------------------------------------------------
# Off by default; `make run` turns it on. On: the self-service page /sandbox/ (a vendor's key
# or certificate in, a client of a demo enterprise out), a clock offset per client that an
# operator sets in the console, and `manage.py issue_token`. Off, none of it exists. A
# production stack refuses it unless ALLOW_SANDBOX_IN_PRODUCTION says it is meant.
SANDBOX_MODE = env_bool("SANDBOX_MODE", default=False)
ALLOW_SANDBOX_IN_PRODUCTION = env_bool("ALLOW_SANDBOX_IN_PRODUCTION", default=False)
# Sign-ups per address (REMOTE_ADDR: behind a proxy, the proxy's), counted in REST_THROTTLE_CACHE.
SANDBOX_SIGNUP_RATE = env_rate("SANDBOX_SIGNUP_RATE", "10/hour")


# --- The feed and its webhooks (feed/, docs/feed.md, docs/adr/0017) --------------------------
# Beat publishes what the outbox still holds (a lost hand-off) and hands the due deliveries
# (retries included) to the workers this often; `run_sweeps` does the same without beat.
FEED_SWEEP_INTERVAL_SECONDS = env_int("FEED_SWEEP_INTERVAL_SECONDS", 10, minimum=1)
CELERY_BEAT_SCHEDULE["sweep-feed"] = {"task": "feed.tasks.sweep_feed", "schedule": float(FEED_SWEEP_INTERVAL_SECONDS)}
# The feed's tasks have a queue of their own, which every worker also consumes (a worker
# consumes every queue listed here), taking from each in turn: a backlog of validations
# does not hold the webhooks up, nor the other way round.
CELERY_TASK_QUEUES = (Queue("celery"), Queue("feed"))
CELERY_TASK_ROUTES = {"feed.tasks.*": {"queue": "feed"}}
# Deliveries go to the workers as soon as their events are published. The embedded default
# runs Celery in the web process, where a slow receiver would hold up the client's call:
# there `run_sweeps` delivers instead.
WEBHOOK_DELIVER_AFTER_PUBLISHING = env_bool("WEBHOOK_DELIVER_AFTER_PUBLISHING", default=not EMBEDDED)
# Targets: https only, on public addresses. A sandbox accepts http://; an operator may allow
# http:// and name private networks (CIDR) that receivers may live in, e.g. 127.0.0.1/32 for a
# receiver on the same host. Both are checked when a subscription is made and at every attempt.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", default=SANDBOX_MODE)
WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS")
# After a failed attempt, the next one waits the next of these delays; after the last, the
# delivery is given up. The default (Standard Webhooks' usual schedule) lasts 27 h 35 min.
WEBHOOK_RETRY_SCHEDULE_SECONDS = env_int_list(
    "WEBHOOK_RETRY_SCHEDULE_SECONDS", [5, 300, 1800, 7200, 18000, 36000, 36000], minimum=1
)
# A subscription whose every attempt has failed for this long is disabled (default: as long
# as the retry schedule lasts); its events stay readable through GET .../events.
WEBHOOK_DISABLE_AFTER_SECONDS = env_int("WEBHOOK_DISABLE_AFTER_SECONDS", sum(WEBHOOK_RETRY_SCHEDULE_SECONDS), minimum=1)
# After a rotation the old secret signs too (a second signature) for this long.
WEBHOOK_SECRET_OVERLAP_SECONDS = env_int("WEBHOOK_SECRET_OVERLAP_SECONDS", 86400, minimum=0)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_int("WEBHOOK_CONNECT_TIMEOUT_SECONDS", 3, minimum=1)
WEBHOOK_READ_TIMEOUT_SECONDS = env_int("WEBHOOK_READ_TIMEOUT_SECONDS", 5, minimum=1)
WEBHOOK_MAX_SUBSCRIPTIONS_PER_CLIENT = env_int("WEBHOOK_MAX_SUBSCRIPTIONS_PER_CLIENT", 10, minimum=1)
# A delivery run sends up to this many messages at once (each of a different registration:
# the order per registration holds); a receiver that is failing gets one at a time.
WEBHOOK_PARALLEL_SENDS = env_int("WEBHOOK_PARALLEL_SENDS", 8, minimum=1)
# The subscriptions' secrets are stored encrypted with a key derived from this one; empty =
# from DJANGO_SECRET_KEY (then rotating that key makes every client rotate its secret).
WEBHOOK_SECRETS_KEY = env_str("WEBHOOK_SECRETS_KEY") or SECRET_KEY


# --- Production guard: refuse to start rather than run unsafely (docs/deploy.md) ------------
def _production_problems() -> list[str]:
    problems = []
    if DEBUG:
        problems.append("DJANGO_DEBUG must be off")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        problems.append("DJANGO_SECRET_KEY must be at least 50 characters, at least 5 of them different")
    if SECRET_KEY.startswith("django-insecure-"):  # what startproject generates for development
        problems.append("DJANGO_SECRET_KEY must not be a development key (django-insecure-...)")
    if not ALLOWED_HOSTS:
        problems.append("DJANGO_ALLOWED_HOSTS is required: the host names the service answers to")
    if len(NISS_HASH_KEY) < 32:
        problems.append("NISS_HASH_KEY is required: at least 32 characters")
    elif NISS_HASH_KEY == SECRET_KEY:
        problems.append("NISS_HASH_KEY must differ from DJANGO_SECRET_KEY")
    if not _REST_CACHE_URL:
        # In process memory every web process would count apart: the limit times the workers.
        problems.append("REST_CACHE_URL is required: a redis:// or rediss:// URL shared by every web process")
    if SANDBOX_MODE and not ALLOW_SANDBOX_IN_PRODUCTION:
        # Anyone could register a client, and clients' clocks could be moved: never by accident.
        problems.append("SANDBOX_MODE must be off (set ALLOW_SANDBOX_IN_PRODUCTION=1 to serve a sandbox)")
    return problems


if PRODUCTION and (_problems := _production_problems()):
    raise ImproperlyConfigured(f"production settings (DATABASE_URL is set): {'; '.join(_problems)}")
