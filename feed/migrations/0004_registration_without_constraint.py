import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Registrations are partitioned on PostgreSQL (docs/adr/0018): no foreign key into them."""

    dependencies = [
        ('feed', '0003_operator_groups'),
        ('registrations', '0011_client_clock_offset'),
    ]

    operations = [
        migrations.AlterField(
            model_name='feedevent',
            name='registration',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='registrations.registration', verbose_name='registration'),
        ),
    ]
