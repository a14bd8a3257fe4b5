"""`manage.py seed_demo`: a demo world where every remark can be seen."""

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from stdnum.be import ssn, vat

from registrations.models import Client, Enterprise, Person, Registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(tmp_path, settings, django_capture_on_commit_callbacks):
    settings.DEMO_CREDENTIALS_DIR = tmp_path / "var/demo"
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # validation runs after commit
        call_command("seed_demo", stdout=out)
    return tmp_path, out.getvalue()


def test_the_demo_world_is_large_and_checksum_valid(demo):
    assert Enterprise.objects.count() >= 300
    assert Person.objects.count() >= 3000
    assert all(vat.is_valid(number) for number in Enterprise.objects.values_list("enterprise_number", flat=True))
    assert all(ssn.is_valid(niss) for niss in Person.objects.values_list("niss", flat=True))


def test_todays_demo_registrations_show_every_remark(demo):
    seen = Counter()
    for registration in Registration.objects.all():
        seen.update(registration.remarks)
    assert sorted(seen) == list(range(1, 18))
    assert Registration.objects.filter(status="validated").count() > 100


def test_two_demo_clients_with_their_credentials(demo):
    tmp_path, out = demo
    enterprise = Client.objects.get(role="enterprise")
    inspection = Client.objects.get(role="inspection")
    assert str(enterprise.id) in out
    assert (tmp_path / "var/demo/enterprise.client-id").read_text().strip() == str(enterprise.id)
    assert (tmp_path / "var/demo/inspection.key.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert enterprise.certificate_fingerprint
    assert inspection.public_key_pem


def test_the_demo_loads_only_into_an_empty_database(demo):
    before = (Registration.objects.count(), Client.objects.count())
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "not loaded again" in out.getvalue()
    with pytest.raises(CommandError, match="already holds reference data"):
        call_command("seed_demo", stdout=io.StringIO())
    assert (Registration.objects.count(), Client.objects.count()) == before


def test_the_address_lookup_works_around_the_demo_workplaces(demo):
    from registrations.addresses import addresses_near
    from registrations.models import Address, DeclarationOfWorks

    assert Address.objects.count() >= 2000
    workplace = DeclarationOfWorks.objects.exclude(latitude=None).first()
    nearby = addresses_near(float(workplace.latitude), float(workplace.longitude), radius_m=400)
    assert nearby
    assert all(n.address.post_code == workplace.post_code for n in nearby)
