"""PostgreSQL: registrations partitioned by month of their date, managed by pg_partman, with
ids that carry their month (docs/adr/0018-partitioning-and-keys.md). SQLite: nothing changes.

The table is converted in place (config/partitioned_tables.py): renamed, recreated
partitioned, its rows moved, its indexes and constraints recreated with the partition key in
the primary key and in the resend's unique index, the old table dropped. Rows written before
keep their ids; from now on the database gives each new row `month << 40 | sequence`, where
`month` counts months from 2000-01 (= 1), in a BEFORE INSERT trigger: the application never
chooses an id, and an INSERT ... RETURNING id returns the one given.
"""

from django.db import migrations

from config.partitioned_tables import convert_to_monthly_partitions, install_partman, own_id_sequence
from config.partitioning import MONTH_SHIFT

ASSIGN_ID = f"""
CREATE FUNCTION registration_assign_id() RETURNS trigger AS $$
BEGIN
    IF NEW.id IS NULL THEN
        NEW.id := (greatest(0, (extract(year FROM NEW.registration_date)::bigint - 2000) * 12
                               + extract(month FROM NEW.registration_date)::bigint) << {MONTH_SHIFT})
                  | (nextval('registrations_registration_id_seq') & ((1::bigint << {MONTH_SHIFT}) - 1));
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER registration_assign_id BEFORE INSERT ON registrations_registration
    FOR EACH ROW EXECUTE FUNCTION registration_assign_id();
"""


def partition(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        install_partman(cursor)
        convert_to_monthly_partitions(cursor, table="registrations_registration", key="registration_date")
        own_id_sequence(cursor, table="registrations_registration")
        cursor.execute(ASSIGN_ID)


class Migration(migrations.Migration):
    atomic = True

    dependencies = [
        ('registrations', '0011_client_clock_offset'),
        ('history', '0007_registration_date'),
        ('feed', '0004_registration_without_constraint'),
    ]

    operations = [migrations.RunPython(partition)]
