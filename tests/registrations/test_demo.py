"""`manage.py seed_demo`: a demo world where every remark can be seen."""

import io
import os
import stat
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from stdnum.be import ssn, vat

from registrations.models import Client, ClientRole, Enterprise, Person, Registration
from registrations.services.demo import create_demo_client

pytestmark = pytest.mark.django_db

# Pass 2 runs on PostgreSQL (DATABASE_URL), where seed_demo asks for this flag.
NOT_PRODUCTION = "--i-know-this-is-not-production"


@pytest.fixture
def demo(tmp_path, settings, django_capture_on_commit_callbacks):
    settings.DEMO_CREDENTIALS_DIR = tmp_path / "var/demo"
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # validation runs after commit
        call_command("seed_demo", NOT_PRODUCTION, stdout=out)
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
    call_command("seed_demo", "--if-empty", NOT_PRODUCTION, stdout=out)
    assert "not loaded again" in out.getvalue()
    with pytest.raises(CommandError, match="already holds reference data"):
        call_command("seed_demo", NOT_PRODUCTION, stdout=io.StringIO())
    assert (Registration.objects.count(), Client.objects.count()) == before


def test_the_address_lookup_works_around_the_demo_workplaces(demo):
    from registrations.models import Address, DeclarationOfWorks
    from registrations.registers.addresses import addresses_near

    assert Address.objects.count() >= 2000
    workplace = DeclarationOfWorks.objects.exclude(latitude=None).first()
    nearby = addresses_near(float(workplace.latitude), float(workplace.longitude), radius_m=400)
    assert nearby
    assert all(n.address.post_code == workplace.post_code for n in nearby)


def test_the_private_keys_are_readable_by_their_owner_only(demo):
    tmp_path, _ = demo
    folder = tmp_path / "var/demo"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_credentials_written_again_tighten_a_loose_folder_and_files(tmp_path, settings):
    settings.DEMO_CREDENTIALS_DIR = tmp_path / "demo"
    folder = tmp_path / "demo"
    folder.mkdir(mode=0o755)
    (folder / "inspection.key.pem").write_text("old")
    (folder / "inspection.key.pem").chmod(0o644)
    previous = os.umask(0)
    try:
        create_demo_client("Demo Inspection", "0000000097", ClientRole.INSPECTION, "inspection")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "inspection.key.pem").stat().st_mode) == 0o600
    assert (folder / "inspection.key.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")


def test_the_demo_refuses_a_database_url_unless_told_it_is_not_production(tmp_path, settings):
    settings.EMBEDDED = False  # as with DATABASE_URL set
    settings.DEMO_CREDENTIALS_DIR = tmp_path / "demo"
    with pytest.raises(CommandError, match="--i-know-this-is-not-production"):
        call_command("seed_demo", stdout=io.StringIO())
    assert (Enterprise.objects.count(), Client.objects.count(), Registration.objects.count()) == (0, 0, 0)
    assert not (tmp_path / "demo").exists()
