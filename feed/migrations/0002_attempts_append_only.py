"""Refuse UPDATE (and, on PostgreSQL, DELETE) of delivery attempts in the database itself.

The ORM already refuses (model and queryset); the triggers also stop raw SQL and other
clients, as for the history (history/migrations/0002). On SQLite only UPDATE is refused: the
test runner empties tables with DELETE there (on PostgreSQL it uses TRUNCATE, which row
triggers do not see).
"""

from django.db import migrations

from config.migration_sql import sql_by_vendor

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION feed_attempt_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'delivery attempts are append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER feed_attempt_append_only BEFORE UPDATE OR DELETE ON feed_deliveryattempt
    FOR EACH ROW EXECUTE FUNCTION feed_attempt_refuse_change();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS feed_attempt_append_only ON feed_deliveryattempt;
DROP FUNCTION IF EXISTS feed_attempt_refuse_change();
"""
SQLITE_UP = """
CREATE TRIGGER feed_attempt_append_only BEFORE UPDATE ON feed_deliveryattempt
BEGIN
    SELECT RAISE(ABORT, 'delivery attempts are append-only');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS feed_attempt_append_only;"


class Migration(migrations.Migration):
    dependencies = [("feed", "0001_initial")]

    operations = [sql_by_vendor(postgresql=(POSTGRES_UP, POSTGRES_DOWN), sqlite=(SQLITE_UP, SQLITE_DOWN))]
