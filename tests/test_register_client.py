"""`manage.py register_client`: the client registry's command."""

import datetime
import io

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command

from registrations.models import Client
from registrations.selectors.clients import caller_for_client
from registrations.services.clients import certificate_fingerprint

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("register_client", *args, stdout=out)
    return out.getvalue().strip().splitlines()


@pytest.fixture
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def certificate_file(tmp_path, key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "integrator.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "cert.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def test_prints_the_new_client_id_alone_on_the_last_line():
    lines = run("--name", "Builder NV", "--enterprise-number", "0448181966", "--role", "enterprise")
    client = Client.objects.get(pk=lines[-1])
    assert (client.name, client.enterprise_number, client.role) == ("Builder NV", "0448181966", "enterprise")


def test_stores_the_certificate_and_public_key_for_the_gateways(certificate_file, key, tmp_path):
    public_key = tmp_path / "key.pub.pem"
    public_key.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    lines = run(
        "--name",
        "Badges BV",
        "--enterprise-number",
        "448181966",
        "--role",
        "enterprise",
        "--certificate",
        str(certificate_file),
        "--public-key",
        str(public_key),
    )
    client = Client.objects.get(pk=lines[-1])
    assert client.enterprise_number == "0448181966"
    assert client.certificate_fingerprint == certificate_fingerprint(certificate_file.read_text())
    assert client.public_key_pem == public_key.read_text()


def test_a_professional_client_acts_for_its_mandating_enterprises():
    lines = run(
        "--name",
        "Secretariat",
        "--enterprise-number",
        "0448181966",
        "--role",
        "professional",
        "--mandated-by",
        "0202239951,403199702",
    )
    caller = caller_for_client(Client.objects.get(pk=lines[-1]))
    assert caller.mandates == {"0202239951", "0403199702"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--enterprise-number", "0448181967", "--role", "enterprise"], "modulo 97"),
        (
            ["--enterprise-number", "0448181966", "--role", "enterprise", "--mandated-by", "0202239951"],
            "mandates",
        ),
        (
            ["--enterprise-number", "0448181966", "--role", "professional", "--mandated-by", "123"],
            "mandating",
        ),
        (
            [
                "--enterprise-number",
                "0448181966",
                "--role",
                "enterprise",
                "--certificate",
                "/nonexistent.pem",
            ],
            "cannot read",
        ),
    ],
)
def test_bad_values_are_refused_and_nothing_is_stored(args, message):
    with pytest.raises(CommandError, match=message):
        run("--name", "X", *args)
    assert not Client.objects.exists()


def test_a_certificate_cannot_belong_to_two_clients(certificate_file):
    run(
        "--name",
        "A",
        "--enterprise-number",
        "0448181966",
        "--role",
        "enterprise",
        "--certificate",
        str(certificate_file),
    )
    with pytest.raises(CommandError, match="already registered"):
        run(
            "--name",
            "B",
            "--enterprise-number",
            "0448181966",
            "--role",
            "enterprise",
            "--certificate",
            str(certificate_file),
        )
