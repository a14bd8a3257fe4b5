"""Logging that never prints a NISS in clear (spec §9).

Every formatted line, traceback included, passes through `redact_niss`, which replaces
anything shaped like a NISS (11 digits, bare or with the separators admission accepts) with a
keyed hash. The hash lets an operator correlate lines about one person without revealing the
number; a plain hash would not do, as the number space is small enough to enumerate.
"""

import hashlib
import hmac
import logging
import re
from typing import Any

# 11 digits, each pair optionally separated by '.', '-' or ' ': every spelling admission
# accepts (registrations/identifiers.py), so none can reach a log line in clear. Request lines
# are logged percent-encoded, so a digit may also be spelled %3X and a separator %20, %2D, %2E
# or '+'. The run must stand alone: a hex digit on either side makes it part of a longer
# identifier (a UUID ticket or task id, a digest, a 12-digit id) that must stay greppable. A
# percent-escape next to the run is a boundary unless it encodes a digit itself.
_DIGIT = r"(?:[0-9]|%3[0-9])"
_SEPARATOR = r"(?:[.\- +]|%2[0DdEe])"
_NISS_SHAPE = re.compile(
    rf"""
    (?:(?<![0-9A-Fa-f])|(?<=%[0-9A-Fa-f]{{2}}))(?<!%3[0-9])
    {_DIGIT}(?:{_SEPARATOR}?{_DIGIT}){{10}}
    (?![0-9A-Fa-f])(?!%3[0-9])
    """,
    re.VERBOSE,
)
_ESCAPED_DIGIT = re.compile(r"%3([0-9])")
_ESCAPED_SEPARATOR = re.compile(r"%2[0DdEe]")


def niss_token(niss: str) -> str:
    """A short keyed hash of a NISS, stable for one key: `niss#1a2b3c4d5e6f`."""
    from django.conf import settings

    digits = re.sub(r"[^0-9]", "", _ESCAPED_DIGIT.sub(r"\1", _ESCAPED_SEPARATOR.sub("", niss)))
    key = str(settings.NISS_HASH_KEY).encode()
    return "niss#" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()[:12]


def redact_niss(text: str) -> str:
    return _NISS_SHAPE.sub(lambda match: niss_token(match.group(0)), text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_niss(super().format(record))


class DropSoapFaultRequestLog(logging.Filter):
    """SOAP 1.1 answers every fault with HTTP 500; django.request would log each as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        path = getattr(getattr(record, "request", None), "path", "")
        return not (
            getattr(record, "status_code", None) == 500
            and record.exc_info is None
            and path.startswith("/PresenceRegistration/")
        )


def build_logging(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "redacted": {
                "()": "config.logging.RedactingFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
        },
        "filters": {"drop_soap_fault_request_log": {"()": "config.logging.DropSoapFaultRequestLog"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "redacted",
                "filters": ["drop_soap_fault_request_log"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Spyne logs whole raw request bodies (with NISS numbers) on syntax errors and a
            # traceback for every client fault: our gateway logs faults itself, with a ticket.
            "spyne": {"level": "WARNING"},
            "spyne.application.client": {"level": "CRITICAL"},
            "spyne.server": {"level": "CRITICAL"},
            "spyne.protocol.soap.soap11.invalid": {"level": "CRITICAL"},
        },
    }
