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
# accepts (registrations/identifiers.py), so none can reach a log line in clear.
_NISS_SHAPE = re.compile(r"(?<![0-9])[0-9](?:[.\- ]?[0-9]){10}(?![0-9])")


def niss_token(niss: str) -> str:
    """A short keyed hash of a NISS, stable for one key: `niss#1a2b3c4d5e6f`."""
    from django.conf import settings

    digits = re.sub(r"[^0-9]", "", niss)
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
