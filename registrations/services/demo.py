"""A realistic, checksum-valid demo world (`manage.py seed_demo`).

Hundreds of enterprises and workplaces, thousands of persons with their Dimona, self-employed
and Limosa facts, loaded through the same import as real reference files; then two demo
clients (an enterprise integrator and inspection) with their keys and certificates written to
var/demo/, and today's registrations, which cover every one of the 17 remarks.
"""

import datetime
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils import timezone

from registrations.domain.authorisation import Caller
from registrations.domain.vocabulary import Channel, ClientRole
from registrations.models import Client
from registrations.registers.address_import import COLUMNS, import_addresses, text_stream
from registrations.registers.addresses import municipality_for
from registrations.registers.reference_import import reference_import
from registrations.selectors.clients import caller_for_client
from registrations.services.clients import client_register
from registrations.services.demo_employer import client_employer_world
from registrations.services.presences import PresenceInput, registration_submit_batch

FIRST_NAMES = [
    "An",
    "Bart",
    "Chloé",
    "David",
    "Els",
    "Fatima",
    "Geert",
    "Hanne",
    "Ilse",
    "Jan",
    "Karim",
    "Lotte",
    "Marc",
    "Nora",
    "Olivier",
    "Pieter",
    "Rania",
    "Sofie",
    "Thomas",
    "Wout",
    "Yasmine",
    "Zoë",
]
FAMILY_NAMES = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "Dubois",
    "Lambert",
    "Dupont",
    "Martin",
    "Simon",
    "Laurent",
    "El Amrani",
    "Nowak",
    "Schmitz",
]
CITIES = [  # (post code, municipality, latitude, longitude)
    ("1000", "Brussel", 50.8467, 4.3525),
    ("2000", "Antwerpen", 51.2194, 4.4025),
    ("9000", "Gent", 51.0543, 3.7174),
    ("3000", "Leuven", 50.8798, 4.7005),
    ("4000", "Liège", 50.6326, 5.5797),
    ("5000", "Namur", 50.4674, 4.8720),
    ("8000", "Brugge", 51.2093, 3.2247),
    ("6000", "Charleroi", 50.4108, 4.4446),
    ("3500", "Hasselt", 50.9307, 5.3325),
    ("4700", "Eupen", 50.6279, 6.0351),
]
STREETS = ["Kerkstraat", "Stationsstraat", "Rue de la Gare", "Industrieweg", "Rue Haute", "Dorpsstraat", "Nieuwstraat"]
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def _enterprise_number(rng: random.Random) -> str:
    body = f"{rng.choice('01')}{rng.randrange(10_000_000):07d}"
    return f"{body}{97 - int(body) % 97:02d}"


def _niss(rng: random.Random, *, bis: bool = False) -> str:
    year = rng.randrange(1950, 2008)
    month = rng.randrange(1, 13) + (20 if bis else 0)
    base = f"{year % 100:02d}{month:02d}{rng.randrange(1, 29):02d}{rng.randrange(1, 998):03d}"
    number = int(("2" if year >= 2000 else "") + base)
    return f"{base}{97 - number % 97:02d}"


def _workplace(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(13))


@dataclass
class DemoWorld:
    """The generated reference data plus the handles the registrations need."""

    data: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {
            "persons": [],
            "enterprises": [],
            "selfEmployed": [],
            "dimonas": [],
            "limosas": [],
            "declarationsOfWorks": [],
        }
    )
    employees: list[tuple[str, str]] = field(default_factory=list)  # (niss, employer)
    workplaces_of: dict[str, list[str]] = field(default_factory=dict)  # employer -> declarations
    special: dict[str, Any] = field(default_factory=dict)


def build_world(rng: random.Random, *, enterprises: int = 300, persons: int = 3000) -> DemoWorld:
    world = DemoWorld()
    today = timezone.localdate()
    numbers = list(dict.fromkeys(_enterprise_number(rng) for _ in range(enterprises + 20)))[:enterprises]
    nisses = list(dict.fromkeys(_niss(rng) for _ in range(persons + 50)))[:persons]
    for niss in nisses:
        world.data["persons"].append(
            {
                "niss": niss,
                "givenName": rng.choice(FIRST_NAMES),
                "familyName": rng.choice(FAMILY_NAMES),
            }
        )
    for index, number in enumerate(numbers):
        natural = index % 10 == 0  # one in ten is a sole trader
        founder = nisses[index] if natural else None
        world.data["enterprises"].append(
            {
                "enterpriseNumber": number,
                "name": f"{rng.choice(FAMILY_NAMES)} {'& Zonen' if natural else 'NV'}",
                "activeFrom": "2005-01-01",
                "activeTo": None,
                "naturalPerson": natural,
                "founders": [founder] if founder else [],
            }
        )
        if founder:
            world.data["selfEmployed"].append({"niss": founder, "from": "2005-01-01", "to": None})
    for niss in nisses[enterprises:]:
        employer = rng.choice(numbers[1:])
        world.employees.append((niss, employer))
        world.data["dimonas"].append(
            {
                "employer": employer,
                "niss": niss,
                "from": "2020-01-01",
                "to": None,
                "workerType": "employee",
                "userCompany": None,
            }
        )
    for index in range(200):
        builder = numbers[index % len(numbers)]
        subcontractors = rng.sample(numbers, 3)
        number = _workplace(rng)
        post_code, city, lat, lon = rng.choice(CITIES)
        sector = 3 if index % 20 == 0 else 4 if index % 20 == 1 else 1
        world.data["declarationsOfWorks"].append(
            {
                "number": number,
                "sector": sector,
                "amount": rng.randrange(600_000, 20_000_000),
                "startDate": "2025-01-01",
                "endDate": None,
                "builder": builder,
                "subcontractors": subcontractors,
                "address": {
                    "postCode": post_code,
                    "municipalityName": city,
                    "streetName": rng.choice(STREETS),
                    "houseNumber": str(rng.randrange(1, 200)),
                    "boxNumber": None,
                },
                "coordinates": {
                    "latitude": round(lat + rng.uniform(-0.03, 0.03), 6),
                    "longitude": round(lon + rng.uniform(-0.03, 0.03), 6),
                },
                "radiusMeters": 150,
            }
        )
        for enterprise in [builder, *subcontractors]:
            world.workplaces_of.setdefault(enterprise, []).append(number)
    _add_remark_cases(world, rng, numbers, today)
    return world


def _add_remark_cases(world: DemoWorld, rng: random.Random, numbers: list[str], today: datetime.date) -> None:
    """Reference facts that make today's demo registrations raise each remark once."""
    d = world.data
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    s = world.special
    s["unfounded_sole_trader"] = numbers[-1]
    d["enterprises"][-1].update(naturalPerson=True, founders=[])
    s["inactive_employer"] = numbers[-2]
    d["enterprises"][-2]["activeTo"] = yesterday
    s["unknown_enterprise"] = _enterprise_number(rng)
    s["self_employed"] = _niss(rng)
    d["persons"].append({"niss": s["self_employed"], "givenName": "Inge", "familyName": "Zelfstandig"})
    d["selfEmployed"].append({"niss": s["self_employed"], "from": "2010-01-01", "to": None})
    s["ended_contract"] = world.employees[0]
    d["dimonas"][0]["to"] = (today - datetime.timedelta(days=40)).isoformat()
    s["bis_posted"], s["bis_expired"], s["bis_unknown"] = (_niss(rng, bis=True) for _ in range(3))
    d["limosas"] += [
        {
            "limosaId": "10000000000000001",
            "niss": s["bis_posted"],
            "foreignEmployerVat": "PL1234567890",
            "belgianClient": numbers[1],
            "from": "2025-01-01",
            "to": None,
        },
        {
            "limosaId": "10000000000000002",
            "niss": s["bis_expired"],
            "foreignEmployerVat": "RO12345678",
            "belgianClient": numbers[1],
            "from": "2025-01-01",
            "to": yesterday,
        },
        {
            "limosaId": "10000000000000003",
            "niss": "",
            "foreignEmployerVat": "PT123456789",
            "belgianClient": numbers[1],
            "from": "2025-01-01",
            "to": yesterday,
        },
    ]
    declarations = d["declarationsOfWorks"]
    s["ended_site"] = declarations[2]["number"]
    declarations[2]["endDate"] = yesterday
    s["small_site"] = declarations[3]["number"]
    declarations[3]["amount"] = 250_000


def demo_dir() -> Path:
    return Path(settings.DEMO_CREDENTIALS_DIR)


def _write_owner_only(path: Path, content: bytes) -> None:
    """Write a file only its owner may read, whatever the umask or an earlier file's mode."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(content)


def write_credentials(client: Client, key: rsa.RSAPrivateKey, certificate: x509.Certificate, name: str) -> None:
    """The private key opens an active client's account: owner-only file in an owner-only folder."""
    folder = demo_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    _write_owner_only(
        folder / f"{name}.key.pem",
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    _write_owner_only(folder / f"{name}.cert.pem", certificate.public_bytes(serialization.Encoding.PEM))
    _write_owner_only(folder / f"{name}.client-id", f"{client.id}\n".encode())


def _credentials(common_name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def create_demo_client(name: str, enterprise_number: str, role: ClientRole, file_name: str) -> Client:
    key, certificate = _credentials(name)
    client = client_register(
        name=name,
        enterprise_number=enterprise_number,
        role=role,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        public_key_pem=key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )
    write_credentials(client, key, certificate, file_name)
    return client


def demo_registrations(world: DemoWorld, rng: random.Random, caller: Caller) -> list[PresenceInput]:
    """Today's registrations: most in order, and one per remark."""
    s = world.special
    declarations = world.data["declarationsOfWorks"]
    enterprises = {e["enterpriseNumber"]: e for e in world.data["enterprises"]}
    items = []
    for niss, employer in rng.sample(world.employees[1:], 150):
        sites = [w for w in world.workplaces_of.get(employer, []) if w not in (s["ended_site"], s["small_site"])]
        if sites:
            items.append(PresenceInput(workplace_id=rng.choice(sites), niss=niss, enterprise_number=employer))
    site = declarations[0]["number"]
    builder = declarations[0]["builder"]
    sole_trader = next(e for e in enterprises.values() if e["naturalPerson"] and e["founders"])
    no_dimona_person = world.data["persons"][0]["niss"]  # a founder elsewhere, no Dimona here
    items += [
        PresenceInput(workplace_id=site, niss=no_dimona_person, enterprise_number=builder),  # 1
        PresenceInput(
            workplace_id=site, niss=world.employees[5][0], enterprise_number=sole_trader["enterpriseNumber"]
        ),  # 2 (+12)
        PresenceInput(
            workplace_id=site, niss=world.employees[6][0], enterprise_number=s["unfounded_sole_trader"]
        ),  # 3 (+12)
        PresenceInput(workplace_id=site, niss=world.employees[7][0], enterprise_number=s["unknown_enterprise"]),  # 4
        PresenceInput(workplace_id=site, niss=s["self_employed"], enterprise_number=builder),  # 5
        PresenceInput(workplace_id=site, limosa_id="19999999999999999"),  # 6
        PresenceInput(workplace_id=site, limosa_id="10000000000000003"),  # 7
        PresenceInput(workplace_id=site, niss=s["bis_unknown"], enterprise_number=builder),  # 8
        PresenceInput(workplace_id=site, niss=s["bis_expired"], enterprise_number=builder),  # 9
        PresenceInput(
            workplace_id=_workplace(rng), niss=world.employees[8][0], enterprise_number=world.employees[8][1]
        ),  # 10
        PresenceInput(
            workplace_id=s["ended_site"], niss=world.employees[9][0], enterprise_number=declarations[2]["builder"]
        ),  # 11
        PresenceInput(
            workplace_id=site, niss=world.employees[10][0], enterprise_number=world.employees[10][1]
        ),  # 12 (unless a party)
        PresenceInput(
            workplace_id=s["small_site"], niss=world.employees[11][0], enterprise_number=declarations[3]["builder"]
        ),  # 13
        PresenceInput(workplace_id=site, niss=_niss(rng), enterprise_number=builder),  # 15 (+1)
        PresenceInput(workplace_id=site, niss=world.employees[12][0], enterprise_number=s["inactive_employer"]),  # 16
        PresenceInput(workplace_id=site, niss=s["ended_contract"][0], enterprise_number=s["ended_contract"][1]),  # 17
    ]
    return items


def demo_addresses_csv(world: DemoWorld, rng: random.Random, per_workplace: int = 20) -> str:
    """Addresses around every demo workplace, in the BeST CSV layout the register imports."""
    region_of = {"1": "BE-BRU", "2": "BE-VLG", "3": "BE-VLG", "8": "BE-VLG", "9": "BE-VLG"}
    lines = [",".join(COLUMNS)]
    address_id = 900_000_000
    for declaration in world.data["declarationsOfWorks"]:
        post_code = str(declaration["address"]["postCode"])
        municipality = municipality_for(post_code, str(declaration["address"]["municipalityName"]))
        if municipality is None:
            continue
        centre = declaration["coordinates"]
        street = rng.choice(STREETS)
        for house in range(1, per_workplace + 1):
            address_id += 1
            row = dict.fromkeys(COLUMNS, "")
            row.update(
                {
                    "EPSG:4326_lat": f"{centre['latitude'] + rng.uniform(-0.002, 0.002):.6f}",
                    "EPSG:4326_lon": f"{centre['longitude'] + rng.uniform(-0.003, 0.003):.6f}",
                    "address_id": str(address_id),
                    "house_number": str(house * 2),
                    "municipality_id": municipality.nis_code,
                    "postcode": post_code,
                    "streetname_nl": street,
                    "streetname_fr": street,
                    "region_code": region_of.get(post_code[0], "BE-WAL"),
                    "status": "current",
                }
            )
            lines.append(",".join(row[column] for column in COLUMNS))
    return "\n".join(lines) + "\n"


def seed_demo(*, seed: int = 20261126) -> dict[str, Any]:
    """Build and load the demo world; returns what was created."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    world = build_world(rng)
    report = reference_import(world.data)
    addresses = import_addresses(text_stream(demo_addresses_csv(world, rng)))
    builder = world.data["declarationsOfWorks"][0]["builder"]
    # The client's own enterprise as a real employer, from generators of its own: the world
    # above, and the registrations below, stay exactly as they were.
    employer = client_employer_world(
        builder,
        rng=random.Random(seed + 1),  # noqa: S311 - demo data, not secrets
        taken_niss=[person["niss"] for person in world.data["persons"]],
        taken_enterprises=[enterprise["enterpriseNumber"] for enterprise in world.data["enterprises"]],
    )
    report.counts.update(
        (section, report.counts.get(section, 0) + count)
        for section, count in reference_import(employer.data).counts.items()
    )
    employer_sites = DemoWorld(data=employer.data)
    addresses.imported += import_addresses(
        text_stream(demo_addresses_csv(employer_sites, random.Random(seed + 2)))  # noqa: S311 - demo data
    ).imported
    enterprise_client = create_demo_client("Demo Bouw NV (integrator)", builder, ClientRole.ENTERPRISE, "enterprise")
    inspection = create_demo_client("Demo Inspection", "0000000097", ClientRole.INSPECTION, "inspection")
    caller = caller_for_client(enterprise_client)
    items = demo_registrations(world, rng, caller)
    results = registration_submit_batch(items=items, caller=caller, channel=Channel.WS)
    # The same presence sent by an operator as well: the later one carries remark 14.
    duplicate = next(r.registration for r in results if r.registration is not None)
    registration_submit_batch(
        items=[
            PresenceInput(
                workplace_id=duplicate.workplace_id, niss=duplicate.niss, enterprise_number=duplicate.enterprise_number
            )
        ],
        caller=Caller.for_operator("demo"),
        channel=Channel.ADMIN,
    )
    today = timezone.localdate()
    registration_submit_batch(
        items=[
            PresenceInput(
                workplace_id=workplace,
                niss=niss,
                enterprise_number=company,
                registration_date=today + datetime.timedelta(days=days),
            )
            for niss, company, workplace, days in employer.operator_presences
        ],
        caller=Caller.for_operator("demo"),
        channel=Channel.ADMIN,
    )
    return {
        "reference": {**report.counts, "addresses": addresses.imported},
        "registrations": sum(1 for r in results if r.registration is not None) + 1,
        "clients": {"enterprise": str(enterprise_client.id), "inspection": str(inspection.id)},
    }
