"""Logging that never prints a NISS in clear (spec §9).

Every formatted line, traceback included, passes through `redact_niss`, which replaces
anything shaped like a NISS (11 digits, bare or with the separators admission accepts) with a
keyed hash. The hash lets an operator correlate lines about one person without revealing the
number; a plain hash would not do, as the number space is small enough to enumerate.

Every record is stamped with the current request id (config/observability/context.py), and
LOG_FORMAT=json writes one JSON object per line instead of text; both are redacted alike.
"""

import hashlib
import hmac
import logging
import logging.config
import re
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from django.utils.log import ServerFormatter
from pythonjsonlogger.json import JsonFormatter

from config.observability.context import current_request_id

# 11 digits with any run of separators between them: every spelling admission accepts
# (registrations/domain/identifiers.py removes any number of '.', '-' and ' '), so none can reach a
# log line in clear. Request lines are logged percent-encoded, so a digit may also be spelled
# %3X and a separator %20, %2D, %2E or '+'. A digit and a separator never start alike, and the
# separator runs are possessive, so matching is linear in the line's length whatever it holds.
_DIGIT = r"(?:[0-9]|%3[0-9])"
_SEPARATOR = r"(?:[.\- +]|%2[0DdEe])"
# The run must stand alone: an ASCII letter or digit on either side makes it part of another
# identifier (a UUID ticket or task id, a digest, a foreign VAT number, a 12-digit id) that
# must stay greppable. An escape next to the run is a boundary, its last character
# notwithstanding: a percent-escape (%22) unless it encodes a digit itself, and the backslash
# escapes of repr() and JSON (\n, \t, \xa0, \u2003), which admission strips as whitespace.
# A digit inside a percent-escape (%20) never starts a run: were it to, every escape in a long
# run of them would start a scan to the end of the run, and matching would turn quadratic.
_STARTS_ALONE = r"""
    (?:(?<![0-9A-Za-z])|(?<=%[0-9A-Fa-f]{2})|(?<=\\[abfnrtv])
       |(?<=\\x[0-9A-Fa-f]{2})|(?<=\\u[0-9A-Fa-f]{4})|(?<=\\U[0-9A-Fa-f]{8}))
    (?<!%3[0-9])(?<!%)(?<!%[0-9A-Fa-f])
"""
_ENDS_ALONE = r"(?![0-9A-Za-z])(?!%3[0-9])"
# Both patterns open with a lookahead for the character a match must start with: implied by
# what follows it, it changes no match, but lets the scan skip every other position before
# trying the lookbehinds there (three times faster on a request body; docs/performance.md).
_NISS_SHAPE = re.compile(
    rf"(?=[0-9%]) {_STARTS_ALONE} {_DIGIT}(?:{_SEPARATOR}*+{_DIGIT}){{10}} {_ENDS_ALONE}",
    re.VERBOSE,
)
# An IPv4 address (gunicorn's client address, axes' lockout lines) is set aside before the
# NISS search, so its digits are neither taken for a NISS nor joined to a neighbouring number:
# exactly four parts 0-255 without leading zeros (as Python's ipaddress reads them), separated
# by single dots. A fifth dotted part on either side makes it something else: the printed NISS
# has five groups (85.07.30-033.28), so it is never mistaken for an address.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_ADDRESS = re.compile(
    rf"(?=[0-9]) {_STARTS_ALONE} (?<![0-9]\.) ({_OCTET}(?:\.{_OCTET}){{3}}) {_ENDS_ALONE} (?!\.[0-9])",
    re.VERBOSE,
)
# What every IPv4 address contains: a text without it has none, and skips the search for them.
_MAYBE_IPV4 = re.compile(r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]")
_ESCAPED_DIGIT = re.compile(r"%3([0-9])")
_ESCAPED_SEPARATOR = re.compile(r"%2[0DdEe]")
_NOT_A_DIGIT = re.compile(r"[^0-9]")


def niss_token(niss: str) -> str:
    """A short keyed hash of a NISS, stable for one key: `niss#1a2b3c4d5e6f`."""
    from django.conf import settings

    if "%" in niss:
        niss = _ESCAPED_DIGIT.sub(r"\1", _ESCAPED_SEPARATOR.sub("", niss))
    digits = _NOT_A_DIGIT.sub("", niss)
    key = str(settings.NISS_HASH_KEY).encode()
    return "niss#" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:12]


def redact_niss(text: str) -> str:
    if not _MAYBE_IPV4.search(text):
        return _redact_niss_shapes(text)
    # split() with a capturing group: the IPv4 addresses are the odd-numbered parts.
    parts = _IPV4_ADDRESS.split(text)
    return "".join(part if index % 2 else _redact_niss_shapes(part) for index, part in enumerate(parts))


def _redact_niss_shapes(text: str) -> str:
    return _NISS_SHAPE.sub(lambda match: niss_token(match.group(0)), text)


NO_REQUEST = "-"


def _record_with_request_id(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A LogRecord factory that stamps every record with the current request id (`-` outside
    a request or task), so every handler, a library's included, can print it."""

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = current_request_id() or NO_REQUEST
        return record

    make_record.stamps_request_id = True  # type: ignore[attr-defined]  # a marker on the function, read by this module only
    return make_record


def stamp_request_ids() -> None:
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "stamps_request_id", False):
        logging.setLogRecordFactory(_record_with_request_id(factory))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):  # made before the factory was installed
            record.request_id = NO_REQUEST
        return redact_niss(super().format(record))


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object per line (LOG_FORMAT=json), redacted like every other line: a NISS
    token is letters, digits and '#', so the object stays valid JSON."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id", "process"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        # ISO 8601 in UTC: every process agrees, whatever its TZ (Django sets Brussels in its own).
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = NO_REQUEST
        return redact_niss(super().format(record))


class RedactingServerFormatter(ServerFormatter):
    """The development server's request lines (`"GET /path?query HTTP/1.1" 404 179`), redacted:
    the path and query are printed as the client sent them."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_niss(super().format(record))


class Redacted(logging.Formatter):
    """Another formatter's output, redacted: for handlers a library sets up itself (gunicorn's)."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.formatter = formatter or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact_niss(self.formatter.format(record))


def configure_logging(config: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG: apply LOGGING, stamp every record with the request id, and log
    uncaught exceptions through it too, so their tracebacks are redacted instead of printed raw
    on stderr."""
    stamp_request_ids()
    logging.config.dictConfig(config)
    sys.excepthook = _log_uncaught_exception
    threading.excepthook = _log_uncaught_thread_exception


def _log_uncaught_exception(exc_type: type[BaseException], exc: BaseException, traceback: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, traceback)
        return
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=(exc_type, exc, traceback))


def _log_uncaught_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:  # as threading's own hook does
        return
    thread = args.thread.name if args.thread else "?"
    logging.getLogger("uncaught").critical(
        "uncaught exception in thread %s", thread, exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
    )


class DropSoapFaultRequestLog(logging.Filter):
    """SOAP 1.1 answers every fault with HTTP 500; django.request would log each as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        path = getattr(getattr(record, "request", None), "path", "")
        return not (
            getattr(record, "status_code", None) == 500
            and record.exc_info is None
            and path.startswith("/PresenceRegistration/")
        )


LOG_FORMATS = ("text", "json")


def build_logging(level: str, log_format: str = "text") -> dict[str, Any]:
    """The LOGGING of every process: `text` lines, or one JSON object per line (`json`);
    both carry the request id and are redacted."""
    formatters: dict[str, dict[str, Any]] = {
        "redacted": {
            "()": "config.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "django.server": {
            "()": "config.logging.RedactingServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    }
    if log_format == "json":
        # Every line an object, the development server's request lines too.
        formatters["redacted"] = formatters["django.server"] = {"()": "config.logging.RedactingJsonFormatter"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "filters": {"drop_soap_fault_request_log": {"()": "config.logging.DropSoapFaultRequestLog"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "redacted",
                "filters": ["drop_soap_fault_request_log"],
            },
            "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's defaults give "django" and "django.server" handlers of their own, which
            # print unredacted (and mail error reports, request included, to ADMINS): replace
            # them, so "django" reaches the console through the root and "django.server" keeps
            # its own request-line format, redacted.
            "django": {"handlers": [], "level": "INFO"},
            "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
            # Spyne logs whole raw request bodies (with NISS numbers) on syntax errors and a
            # traceback for every client fault: our gateway logs faults itself, with a ticket.
            "spyne": {"level": "WARNING"},
            "spyne.application.client": {"level": "CRITICAL"},
            "spyne.server": {"level": "CRITICAL"},
            "spyne.protocol.soap.soap11.invalid": {"level": "CRITICAL"},
        },
    }
