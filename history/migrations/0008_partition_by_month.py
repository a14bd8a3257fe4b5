"""PostgreSQL: history events partitioned by month of their registration's date, managed by
pg_partman, so that a month of registrations and its history leave together
(docs/adr/0018-partitioning-and-keys.md). SQLite: nothing changes.

The rows move with their registration's date (filled here), their ids and hashes unchanged;
the append-only trigger (0002, 0004) is recreated on the partitioned table, which gives it to
every partition, present and future. The primary key becomes (id, registration_date) and the
chain's unique (registration, seq) gains the date (one registration has one date: as strict).
"""

from django.db import migrations

from config.partitioned_tables import convert_to_monthly_partitions, own_id_sequence

TABLE = "history_historyevent"


def _select_with_dates(cursor) -> str:  # type: ignore[no-untyped-def]
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [TABLE],
    )
    columns = [
        "coalesce(r.registration_date, h.occurred_at::date)" if name == "registration_date" else f'h."{name}"'
        for (name,) in cursor.fetchall()
    ]
    return (
        f"SELECT {', '.join(columns)} FROM {TABLE}_unpartitioned h"
        " LEFT JOIN registrations_registration r ON r.id = h.registration_id"
    )


def partition(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        select = _select_with_dates(cursor)
        convert_to_monthly_partitions(cursor, table=TABLE, key="registration_date", select=select)
        sequence = own_id_sequence(cursor, table=TABLE)
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{sequence}')")


class Migration(migrations.Migration):

    dependencies = [
        ('history', '0007_registration_date'),
        ('registrations', '0012_partition_by_month'),
    ]

    operations = [migrations.RunPython(partition)]
