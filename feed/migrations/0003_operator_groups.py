"""The operators' groups (docs/operators.md) get the webhook screens.

viewer         sees subscriptions, deliveries and attempts.
corrector      + sends deliveries again ("Redeliver").
administrator  + disables and enables subscriptions.
"""

from django.db import migrations

VIEWER = [("feed", f"view_{model}") for model in ("subscription", "delivery", "deliveryattempt")]
CORRECTOR = [*VIEWER, ("feed", "redeliver_delivery")]
ADMINISTRATOR = [*CORRECTOR, ("feed", "manage_subscription")]
GROUPS = {"viewer": VIEWER, "corrector": CORRECTOR, "administrator": ADMINISTRATOR}


def grant(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Permissions are created after migrations (post_migrate); create them now so that the
    # groups can hold them on a fresh database.
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    create_permissions(global_apps.get_app_config("feed"), verbosity=0, apps=apps, using=schema_editor.connection.alias)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUPS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for app_label, codename in wanted:
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)


def revoke(apps, schema_editor):  # type: ignore[no-untyped-def]
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = {codename for wanted in GROUPS.values() for _, codename in wanted}
    permissions = Permission.objects.filter(content_type__app_label="feed", codename__in=codenames)
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("feed", "0002_attempts_append_only"),
        ("registrations", "0006_operator_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
