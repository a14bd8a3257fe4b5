"""Test settings: the same as production but for speed and determinism."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Live-server threads keep connections open otherwise, and test-database teardown then waits.
for _database in DATABASES.values():  # noqa: F405
    _database["CONN_MAX_AGE"] = 0

# A `replica` alias that is the primary under another name (Django's TEST MIRROR), so the
# read-replica router can be tested (tests/test_routers.py installs it; nothing else reads it).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
