"""Test settings: the same as production but for speed and determinism."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Live-server threads keep connections open otherwise, and test-database teardown then waits.
for _database in DATABASES.values():  # noqa: F405
    _database["CONN_MAX_AGE"] = 0
