"""PostgreSQL: a registration's id and its date keep naming the same month (docs/adr/0018).

- The month in an id is kept within 1..MAX_MONTH (2075-07): an id keeps the contract's 15
  digits at most (spec §3), whatever the date a client sends (9999-12-31 is ordinary input).
  Ids of dates outside that range carry 0 or MAX_MONTH + 1 and name no month: reads by them
  do not prune.
- A registration's date never moves to another month once its id names one: the reads by id
  look in that month only. The service never changes a date (a correction is a new
  registration); the trigger says so clearly to anyone else.
"""

from django.db import migrations

from config.partitioning import MAX_MONTH, MONTH_SHIFT

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION registration_assign_id() RETURNS trigger AS $$
BEGIN
    IF NEW.id IS NULL THEN
        NEW.id := (least({MAX_MONTH + 1}, greatest(0, (extract(year FROM NEW.registration_date)::bigint - 2000) * 12
                                                      + extract(month FROM NEW.registration_date)::bigint)) << {MONTH_SHIFT})
                  | (nextval('registrations_registration_id_seq') & ((1::bigint << {MONTH_SHIFT}) - 1));
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE FUNCTION registration_keep_month() RETURNS trigger AS $$
BEGIN
    IF (OLD.id >> {MONTH_SHIFT}) BETWEEN 1 AND {MAX_MONTH}
       AND date_trunc('month', NEW.registration_date) <> date_trunc('month', OLD.registration_date) THEN
        RAISE EXCEPTION 'registration %: its date cannot move to another month (its id names the month: docs/adr/0018)', OLD.id;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER registration_keep_month BEFORE UPDATE OF registration_date ON registrations_registration
    FOR EACH ROW EXECUTE FUNCTION registration_keep_month();
"""


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POSTGRES_UP)  # no parameters: the '%' of RAISE stays as it is


class Migration(migrations.Migration):

    dependencies = [
        ('registrations', '0012_partition_by_month'),
        ('history', '0008_partition_by_month'),
    ]

    operations = [migrations.RunPython(install)]
