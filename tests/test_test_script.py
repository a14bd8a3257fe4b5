"""`make test` (scripts/test.sh) runs its PostgreSQL pass whenever the server answers,
whatever the test database is called."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "test.sh"

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def recording_bin(tmp_path) -> Path:
    """A BIN with the real python and a pytest that only records the database of each pass:
    the script's decisions are under test here, not the suite."""
    directory = tmp_path / "bin"
    directory.mkdir()
    programs = {
        "python": f'#!/bin/sh\nexec "{sys.executable}" "$@"\n',
        "pytest": '#!/bin/sh\necho "pytest ran on ${DATABASE_URL:-sqlite}"\n',
    }
    for name, text in programs.items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o755)
    return directory


def test_the_postgres_pass_runs_for_a_database_name_not_starting_with_presence(recording_bin, own_redis):
    settings = connection.settings_dict
    server = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    environment = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REQUIRE_SERVICES")}
    environment |= {
        "BIN": str(recording_bin),
        "TEST_DATABASE_URL": f"{server}/presence_of_mine",  # need not exist: the tests create test_<name>
        "TEST_REDIS_URL": own_redis.url,
        "PGPASSWORD": settings["PASSWORD"] or "",
    }
    completed = subprocess.run(["bash", str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "pass 2 NOT RUN" not in completed.stdout
    assert f"pytest ran on {server}/presence_of_mine" in completed.stdout
