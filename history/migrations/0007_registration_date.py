"""Before the history is partitioned by month of its registration's date (docs/adr/0018):
events carry that date (filled from their registration), and the foreign keys into the
tables about to be partitioned leave the database (the services keep the integrity).

On SQLite the table is rebuilt by these operations, which drops its append-only trigger
(0002): it is put back once the dates are filled. On PostgreSQL the dates are filled when the
rows move into the partitioned table (0008).
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models

SQLITE_TRIGGER = """
CREATE TRIGGER history_append_only BEFORE UPDATE ON history_historyevent
BEGIN
    SELECT RAISE(ABORT, 'history events are append-only');
END;
"""
SQLITE_FILL = """
UPDATE history_historyevent SET registration_date = (
    SELECT registration_date FROM registrations_registration r WHERE r.id = history_historyevent.registration_id
) WHERE registration_id IN (SELECT id FROM registrations_registration)
"""


def fill_dates_on_sqlite(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS history_append_only")
    schema_editor.execute(SQLITE_FILL)
    schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):

    dependencies = [
        ('history', '0006_outbox'),
        ('registrations', '0011_client_clock_offset'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historyevent',
            name='registration',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='history_events', to='registrations.registration'),
        ),
        migrations.AlterField(
            model_name='outboxentry',
            name='event',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='history.historyevent'),
        ),
        migrations.AddField(
            model_name='historyevent',
            name='registration_date',
            field=models.DateField(default=datetime.date(2000, 1, 1), verbose_name='registration date'),
            preserve_default=False,
        ),
        migrations.RunPython(fill_dates_on_sqlite, migrations.RunPython.noop),
    ]
