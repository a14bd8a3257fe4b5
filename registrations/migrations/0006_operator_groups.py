"""The operators' groups (docs/operators.md): viewer, corrector, administrator.

viewer         sees every screen and the dashboard; acts on nothing.
corrector      + revalidate, cancel, correct cleaning events, who consulted a worker.
administrator  + reference registers, integrator clients and their keys, legal holds.
"""

from django.db import migrations

REGISTRATION_MODELS = [
    "registration", "client", "clientmandate", "person", "enterprise", "enterprisefounder",
    "selfemployedperiod", "dimonaperiod", "limosadeclaration", "declarationofworks",
    "declarationparty", "address",
]
REFERENCE_MODELS = [
    "person", "enterprise", "enterprisefounder", "selfemployedperiod", "dimonaperiod",
    "limosadeclaration", "declarationofworks", "declarationparty", "address", "client", "clientmandate",
]
VIEWER = [("registrations", f"view_{model}") for model in REGISTRATION_MODELS] + [
    ("history", "view_historyevent"),
    ("history", "view_purgerecord"),
    ("registrations", "view_dashboard"),
]
CORRECTOR = VIEWER + [
    ("registrations", "cancel_registration"),
    ("registrations", "revalidate_registration"),
    ("registrations", "correct_registration"),
    ("registrations", "view_worker_access"),
]
ADMINISTRATOR = CORRECTOR + [
    ("registrations", f"{action}_{model}") for model in REFERENCE_MODELS for action in ("add", "change", "delete")
] + [
    ("registrations", "manage_client_keys"),
    ("registrations", "manage_legal_hold"),
]
GROUPS = {"viewer": VIEWER, "corrector": CORRECTOR, "administrator": ADMINISTRATOR}


def create_groups(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Permissions are created after migrations (post_migrate); create them now so that the
    # groups can hold them on a fresh database.
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for app_label in ("registrations", "history"):
        config = global_apps.get_app_config(app_label)
        create_permissions(config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)


def remove_groups(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0005_operators"),
        ("history", "0003_purge"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
