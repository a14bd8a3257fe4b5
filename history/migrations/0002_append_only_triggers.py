"""Refuse UPDATE (and, on PostgreSQL, DELETE) of history rows in the database itself.

The ORM already refuses; the triggers also stop raw SQL and other clients. On SQLite only
UPDATE is refused: the test runner empties tables with DELETE there (on PostgreSQL it uses
TRUNCATE, which row triggers do not see).
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION history_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'history events are append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history_historyevent
    FOR EACH ROW EXECUTE FUNCTION history_refuse_change();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS history_append_only ON history_historyevent;
DROP FUNCTION IF EXISTS history_refuse_change();
"""
SQLITE_UP = """
CREATE TRIGGER history_append_only BEFORE UPDATE ON history_historyevent
BEGIN
    SELECT RAISE(ABORT, 'history events are append-only');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS history_append_only;"


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def uninstall(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("history", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
