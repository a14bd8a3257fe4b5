"""SQL a migration runs on one database vendor only (the append-only triggers differ between
PostgreSQL and SQLite): `sql_by_vendor(postgresql=(up, down), sqlite=(up, down))`."""

from collections.abc import Callable
from typing import Any

from django.db import migrations


def _run(statements: dict[str, tuple[str, str]], index: int) -> Callable[[Any, Any], None]:
    def run(apps: Any, schema_editor: Any) -> None:
        sql = statements.get(schema_editor.connection.vendor)
        if sql is not None:
            schema_editor.execute(sql[index])

    return run


def sql_by_vendor(**statements: tuple[str, str]) -> migrations.RunPython:
    """A reversible operation running each vendor's (forward, backward) SQL, nothing elsewhere."""
    return migrations.RunPython(_run(statements, 0), _run(statements, 1))
