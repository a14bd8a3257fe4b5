"""Operators' fixtures: one staff user per group (migration 0006), and registrations.

Personas: `viewer` sees everything and may act on nothing; `corrector` revalidates, cancels,
corrects cleaning events and sees who consulted a worker; `administrator` also manages
clients, their keys, reference registers and legal holds.
"""

from datetime import date, datetime, timedelta
from importlib import import_module
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client as DjangoClient
from django.utils import timezone

from history.events import EventType
from history.services import NewEvent, history_record_many
from registrations.models import Channel, Registration, Sector, Status
from tests.factories import make_enterprise_number, make_niss, make_workplace_id

OPERATOR_GROUPS = import_module("registrations.migrations.0006_operator_groups")


def staff_in(group: str, username: str) -> User:
    if not Group.objects.filter(name=group).exists():
        # A live-server or transactional test empties every table when it ends, the groups of
        # migration 0006 included: create them again as that migration does.
        OPERATOR_GROUPS.create_groups(django_apps, SimpleNamespace(connection=connection))
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def viewer(db) -> User:
    """Sees every screen and the dashboard; no action."""
    return staff_in("viewer", "vera")


@pytest.fixture
def corrector(db) -> User:
    """Revalidates, cancels, corrects cleaning events, sees who consulted a worker."""
    return staff_in("corrector", "cor")


@pytest.fixture
def administrator(db) -> User:
    """Everything a corrector does, plus clients, keys, registers and legal holds."""
    return staff_in("administrator", "ada")


def logged_in(user: User) -> DjangoClient:
    http = DjangoClient()
    http.force_login(user)
    return http


def make_registration(
    *,
    registration_date: date | None = None,
    sector: Sector = Sector.CONSTRUCTION,
    status: Status = Status.VALIDATED,
    remark_mask: int = 0,
    event_type: str = "",
    event_at: datetime | None = None,
    **fields: Any,
) -> Registration:
    """A stored registration with its `registration.created` event (test data, not a service)."""
    now = timezone.now()
    values: dict[str, Any] = {
        "sector": sector,
        "channel": Channel.WS if sector != Sector.CLEANING else Channel.REST,
        "created_at": now - timedelta(seconds=5),
        "validated_at": now if status != Status.REGISTERED else None,
        "registration_date": registration_date or timezone.localdate(),
        "niss": make_niss(),
        "enterprise_number": make_enterprise_number(),
        "workplace_id": make_workplace_id(),
        "submitted": {},
        "status": status,
        "remark_mask": remark_mask,
        "event_type": event_type,
        "event_at": event_at,
        "dedup_key": f"test|{now.timestamp()}|{make_workplace_id()}",
    }
    values.update(fields)
    registration = Registration.objects.create(**values)
    history_record_many(
        [
            NewEvent(
                registration_id=registration.pk,
                event_type=EventType.CREATED,
                actor="client:test",
                channel=registration.channel,
                data={"status": Status.REGISTERED.label, "sector": registration.sector},
            )
        ],
        new_chains=True,
    )
    return registration


def post_action(http: DjangoClient, action: str, ids: list[int], **extra: Any) -> Any:
    return http.post(
        "/admin/registrations/registration/",
        {"action": action, "_selected_action": [str(i) for i in ids], **extra},
    )
