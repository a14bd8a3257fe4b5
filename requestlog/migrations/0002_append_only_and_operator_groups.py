"""The request log is append-only below the ORM too, and every operators' group may read it.

PostgreSQL: a trigger refuses UPDATE, and DELETE unless the transaction set
`presence.request_log_purge` to 'on' (`SELECT set_config('presence.request_log_purge', 'on',
true)`, transaction-local), which only `requestlog.services.request_logs_purge_expired` does.
SQLite refuses UPDATE (DELETE stays possible there for the test runner, as for the history).

Groups (registrations migration 0006, docs/operators.md): viewer, corrector and administrator
see every screen, this one included; nobody may change it.
"""

from django.db import migrations

from config.migration_sql import sql_by_vendor

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION requestlog_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('presence.request_log_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'request log records are append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER requestlog_append_only BEFORE UPDATE OR DELETE ON requestlog_requestlog
    FOR EACH ROW EXECUTE FUNCTION requestlog_refuse_change();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS requestlog_append_only ON requestlog_requestlog;
DROP FUNCTION IF EXISTS requestlog_refuse_change();
"""
SQLITE_UP = """
CREATE TRIGGER requestlog_append_only BEFORE UPDATE ON requestlog_requestlog
BEGIN
    SELECT RAISE(ABORT, 'request log records are append-only');
END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS requestlog_append_only;"
GROUPS = ("viewer", "corrector", "administrator")


def grant_view(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Permissions are created after migrations (post_migrate); create them now so that the
    # groups can hold them on a fresh database.
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    create_permissions(
        global_apps.get_app_config("requestlog"), verbosity=0, apps=apps, using=schema_editor.connection.alias
    )
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="requestlog", codename="view_requestlog")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke_view(apps, schema_editor):  # type: ignore[no-untyped-def]
    Permission = apps.get_model("auth", "Permission")
    for permission in Permission.objects.filter(content_type__app_label="requestlog"):
        permission.group_set.clear()


class Migration(migrations.Migration):
    dependencies = [
        ("requestlog", "0001_initial"),
        ("registrations", "0006_operator_groups"),
    ]

    operations = [sql_by_vendor(postgresql=(POSTGRES_UP, POSTGRES_DOWN), sqlite=(SQLITE_UP, SQLITE_DOWN)), migrations.RunPython(grant_view, revoke_view)]
