"""`manage.py check --deploy` on the production settings, against docs/deploy.md.

Runs the check with production variables (PostgreSQL and Redis URLs, fresh keys, a public
host name; nothing is connected to) and fails when it reports an id that docs/deploy.md does
not list with its reason, or when the list names an id the check no longer reports. Every
other variable passes through, so a setting can be tried: `DJANGO_SECURE_HSTS_PRELOAD=1
.venv/bin/python scripts/check_deploy.py`. CI runs it (.ci/run).
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "deploy.md"
# A row of the accepted-warnings table: | `security.W021` | the reason |
ACCEPTED_ROW = re.compile(r"^\| `([a-z_]+\.[A-Z]\d{3})` \| (.*\S.*) \|$", re.MULTILINE)
REPORTED_ID = re.compile(r"^\?: \(([a-z_]+\.[A-Z]\d{3})\)", re.MULTILINE)


def production_environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "CELERY_"))}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": "postgres://presence@db.invalid:5432/presence",
            "CELERY_BROKER_URL": "redis://redis.invalid:6379/0",
            "REST_CACHE_URL": "redis://redis.invalid:6379/1",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "NISS_HASH_KEY": secrets.token_urlsafe(32),
            "DJANGO_ALLOWED_HOSTS": "presence.example.org",
            "DJANGO_DEBUG": "0",
        }
    )
    return environment


def accepted_ids(doc: Path = DOC) -> set[str]:
    return {match.group(1) for match in ACCEPTED_ROW.finditer(doc.read_text(encoding="utf-8"))}


def reported_ids() -> set[str]:
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=production_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0 and "System check identified" not in completed.stderr + completed.stdout:
        sys.exit(f"check --deploy did not run:\n{completed.stderr[-3000:]}")
    return set(REPORTED_ID.findall(completed.stdout + completed.stderr))


def main() -> int:
    reported, accepted = reported_ids(), accepted_ids()
    unexplained, stale = sorted(reported - accepted), sorted(accepted - reported)
    for check_id in unexplained:
        print(f"check --deploy: {check_id} is not listed with its reason in docs/deploy.md", file=sys.stderr)
    for check_id in stale:
        print(f"check --deploy: {check_id} is listed in docs/deploy.md but no longer reported", file=sys.stderr)
    if unexplained or stale:
        return 1
    print(f"check --deploy: every reported id is explained in docs/deploy.md ({', '.join(sorted(reported)) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
