"""History rows leave only through the retention purge; purge records never leave.

PostgreSQL: the history trigger keeps refusing UPDATE, and refuses DELETE unless the
transaction set `presence.purge` to 'on' (`SELECT set_config('presence.purge', 'on', true)`,
transaction-local), which only `history.services.history_purge` does. The purge log refuses
UPDATE and DELETE without exception. SQLite refuses UPDATE of both (DELETE stays possible
there for the test runner, as in 0002). See docs/adr/0010-retention-purge.md.
"""

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION history_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('presence.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'history events are append-only';
END
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION history_purge_log_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the purge log is append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER history_purge_log_append_only BEFORE UPDATE OR DELETE ON history_purgerecord
    FOR EACH ROW EXECUTE FUNCTION history_purge_log_refuse_change();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS history_purge_log_append_only ON history_purgerecord;
DROP FUNCTION IF EXISTS history_purge_log_refuse_change();
CREATE OR REPLACE FUNCTION history_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'history events are append-only';
END
$$ LANGUAGE plpgsql;
"""
SQLITE_UP = """
CREATE TRIGGER history_purge_log_append_only BEFORE UPDATE ON history_purgerecord
BEGIN
    SELECT RAISE(ABORT, 'the purge log is append-only');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS history_purge_log_append_only;"


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
    dependencies = [("history", "0003_purge")]

    operations = [migrations.RunPython(install, uninstall)]
