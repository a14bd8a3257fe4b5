"""gunicorn's configuration (`make serve`, scripts/serve.sh): its error log and its access log,
request lines with their query strings, are redacted like every other log line (spec §9)."""

import os
from typing import Any

from gunicorn import glogging

from config.logging import Redacted

# The master logs before any worker has loaded config.wsgi; redaction reads NISS_HASH_KEY.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class RedactingLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn has no type information
    """gunicorn's own logger, every handler it sets up (console, files, syslog) redacted."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not isinstance(handler.formatter, Redacted):
                    handler.setFormatter(Redacted(handler.formatter))


logger_class = RedactingLogger
accesslog = "-"
