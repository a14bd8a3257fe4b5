"""`make serve` refuses to start the production processes without their required variables."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "serve.sh"


REQUIRED = [
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SECRET_KEY",
    "NISS_HASH_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "REST_CACHE_URL",
]


@pytest.mark.parametrize("missing", REQUIRED)
def test_serve_names_the_missing_variable_and_starts_nothing(missing):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "CELERY_", "DJANGO_", "NISS_HASH_KEY", "REST_CACHE_URL"))
    }
    environment |= {
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "DJANGO_SECRET_KEY": "x",
        "NISS_HASH_KEY": "y",
        "DJANGO_ALLOWED_HOSTS": "presence.example.org",
        "REST_CACHE_URL": "redis://127.0.0.1:1/1",
        "BIN": "/nonexistent",  # nothing may be started
    }
    del environment[missing]
    completed = subprocess.run(["bash", str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=30)
    assert completed.returncode == 2
    assert f"set {missing}" in completed.stderr
