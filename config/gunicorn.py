"""gunicorn's configuration (`make serve`, scripts/serve.sh): its error log and its access log,
request lines with their query strings, are redacted like every other log line (spec §9), in
the service's LOG_FORMAT (text, or one JSON object per line); each access line ends with the
request id (the X-Request-ID answer header, the client's ticket). With PROMETHEUS_MULTIPROC_DIR,
a worker that exits has its live gauges removed (docs/operations.md)."""

import logging
import os
from typing import Any

from gunicorn import glogging
from prometheus_client import multiprocess

from config.logging import Redacted, RedactingJsonFormatter

# The master logs before any worker has loaded config.wsgi; redaction reads NISS_HASH_KEY.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# gunicorn's default line, then the answer's X-Request-ID.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
_REQUEST_ID_ATOM = "{x-request-id}o"


class AccessJsonFormatter(RedactingJsonFormatter):
    """An access line's request id is in its atoms, not in a current request (already over)."""

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, dict) and record.args.get(_REQUEST_ID_ATOM) not in (None, "-"):
            record.request_id = record.args[_REQUEST_ID_ATOM]
        return super().format(record)


class RedactingLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn has no type information
    """gunicorn's own logger, every handler it sets up (console, files, syslog) redacted."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        as_json = os.environ.get("LOG_FORMAT", "text").strip().lower() == "json"
        for log, json_formatter in ((self.error_log, RedactingJsonFormatter), (self.access_log, AccessJsonFormatter)):
            for handler in log.handlers:
                if as_json:
                    handler.setFormatter(json_formatter())
                elif not isinstance(handler.formatter, Redacted):
                    handler.setFormatter(Redacted(handler.formatter))


def child_exit(server: Any, worker: Any) -> None:
    """prometheus-client's bookkeeping for a worker that is gone (its counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated


logger_class = RedactingLogger
accesslog = "-"
