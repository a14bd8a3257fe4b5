"""Test settings: the same as production but for speed and determinism."""

from pathlib import Path

from config.env import env_str
from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Live-server threads keep connections open otherwise, and test-database teardown then waits.
# The pool is left out too: a test's transaction holds its connection while live-server and
# test threads take theirs, more than a production-sized pool lends (tests/test_pooling.py
# tests the pool itself; the real gunicorn and Celery processes the tests start use it).
for _database in DATABASES.values():  # noqa: F405
    _database["CONN_MAX_AGE"] = 0
    if isinstance(_options := _database.get("OPTIONS"), dict):
        _options.pop("pool", None)

# A `replica` alias that is the primary under another name (Django's TEST MIRROR), so the
# read-replica router can be tested (tests/test_routers.py installs it; nothing else reads it).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405

# The official PresenceRegistration v1.11 WSDL and XSDs (not ours to redistribute, so not in the
# repository). The compatibility tests read them from here and are skipped, with the reason,
# where they are absent (README, "Tests against the official contract").
OFFICIAL_CONTRACT_DIR = Path(
    env_str("OFFICIAL_CONTRACT_DIR") or BASE_DIR.parent / "shared" / "contracts" / "soap-v1.11"  # noqa: F405
)
