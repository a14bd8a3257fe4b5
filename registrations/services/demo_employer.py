"""The demo enterprise client's own enterprise as a real employer (`seed_demo`, issue 16).

In the generated world the enterprise client's enterprise (the builder of the first
declaration, a sole trader) has no Dimona and one meat site, so nothing it registered for
itself could validate. This adds, for that enterprise:

- a crew of employees with an open Dimona, one employee whose Dimona has ended, and the
  people the remark examples need (no relation here, self-employed);
- three partner enterprises: an active company, an enterprise that stopped, and a sole trader
  with no founder on record, each a subcontractor on the client's construction site;
- Declarations of Works in each sector where it is builder, and where it is subcontractor,
  plus a site below the construction threshold and a site whose works have ended;
- the presences an operator registers too, so the sheet can show remark 14 (another sender
  registered it first) and cancellation code 1 (a registration the builder sees but may not
  cancel).

Everything here is drawn from a random generator of its own: the rest of the demo world,
which its tests rely on, stays exactly as it was. `registrations/selectors/demo_sheet.py` finds these
facts again by querying the database; nothing there depends on the constants below.
"""

import random
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

# Fixed past dates, so the facts hold whatever day the demo is loaded.
EMPLOYED_FROM = "2020-01-01"
SITES_FROM = "2025-01-01"
ENDED_ON = "2025-12-31"
CREW_SIZE = 20
_SITES = {  # (post code, municipality, street, latitude, longitude)
    "construction": ("1000", "Brussel", "Wetstraat", 50.8462, 4.3660),
    "meat": ("9000", "Gent", "Slachthuisstraat", 51.0661, 3.7290),
    "cleaning": ("3000", "Leuven", "Bondgenotenlaan", 50.8810, 4.7080),
}
_FIRST = ["Amina", "Bram", "Charlotte", "Dries", "Emma", "Farid", "Greet", "Hugo", "Ines", "Jonas", "Kaat", "Louis"]
_FAMILY = ["Verbeke", "Desmet", "Claeys", "Lemaire", "Van Damme", "Hermans", "Segers", "Michiels", "Leclercq"]
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
SECTIONS = ("persons", "enterprises", "selfEmployed", "dimonas", "declarationsOfWorks")


@dataclass
class ClientEmployerWorld:
    """Reference data to import with the demo world, and presences an operator registers."""

    data: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: _empty_sections())
    # (niss, employer, workplace, days from today) registered by an operator after the demo's
    # own registrations: the same presence sent by the client later carries remark 14.
    operator_presences: list[tuple[str, str, str, int]] = field(default_factory=list)


def _empty_sections() -> dict[str, list[dict[str, Any]]]:
    return {section: [] for section in SECTIONS}


class _Numbers:
    """Checksum-valid identifiers not yet used in the demo world."""

    def __init__(self, rng: random.Random, taken_niss: Collection[str], taken_enterprises: Collection[str]) -> None:
        self.rng = rng
        self.taken = set(taken_niss) | set(taken_enterprises)

    def _fresh(self, make: Any) -> str:
        while (value := make()) in self.taken:
            pass
        self.taken.add(value)
        return str(value)

    def niss(self) -> str:
        def make() -> str:
            year = self.rng.randrange(1960, 2000)  # before 2000: the plain mod-97 check
            base = f"{year % 100:02d}{self.rng.randrange(1, 13):02d}{self.rng.randrange(1, 29):02d}"
            base += f"{self.rng.randrange(1, 998):03d}"
            return f"{base}{97 - int(base) % 97:02d}"

        return self._fresh(make)

    def enterprise(self) -> str:
        def make() -> str:
            body = f"0{self.rng.randrange(200_000_000, 999_999_999):09d}"[:8]
            return f"{body}{97 - int(body) % 97:02d}"

        return self._fresh(make)

    def workplace(self) -> str:
        return self._fresh(lambda: "".join(self.rng.choice(_ALPHABET) for _ in range(13)))


def client_employer_world(
    enterprise_number: str, *, rng: random.Random, taken_niss: Collection[str], taken_enterprises: Collection[str]
) -> ClientEmployerWorld:
    """The facts that make `enterprise_number` a real employer in each sector (module docstring)."""
    numbers = _Numbers(rng, taken_niss, taken_enterprises)
    world = ClientEmployerWorld()
    d = world.data

    def person(*, employer: str | None = None, until: str | None = None) -> str:
        niss = numbers.niss()
        d["persons"].append({"niss": niss, "givenName": rng.choice(_FIRST), "familyName": rng.choice(_FAMILY)})
        if employer:
            d["dimonas"].append(
                {"employer": employer, "niss": niss, "from": EMPLOYED_FROM, "to": until, "workerType": "employee"}
            )
        return niss

    partner, stopped, unfounded = numbers.enterprise(), numbers.enterprise(), numbers.enterprise()
    d["enterprises"] += [
        {"enterpriseNumber": partner, "name": "Demo Partner NV", "activeFrom": "2005-01-01", "naturalPerson": False},
        {
            "enterpriseNumber": stopped,
            "name": "Demo Gestopt BV",
            "activeFrom": "2005-01-01",
            "activeTo": ENDED_ON,
            "naturalPerson": False,
        },
        {
            "enterpriseNumber": unfounded,
            "name": "Demo Zonder Stichter",
            "activeFrom": "2005-01-01",
            "naturalPerson": True,
        },
    ]
    crew = [person(employer=enterprise_number) for _ in range(CREW_SIZE)]
    person(employer=enterprise_number, until=ENDED_ON)  # remark 17
    person(employer=stopped)  # remark 16
    person()  # no relation with anyone: remarks 1, 2, 3
    person()
    self_employed = person()  # remark 5
    d["selfEmployed"].append({"niss": self_employed, "from": "2010-01-01", "to": None})

    def site(sector: str, builder: str, subcontractors: list[str], **changes: Any) -> str:
        post_code, municipality, street, latitude, longitude = _SITES[sector]
        number = numbers.workplace()
        d["declarationsOfWorks"].append(
            {
                "number": number,
                "sector": {"construction": 1, "meat": 3, "cleaning": 4}[sector],
                "amount": 2_400_000,
                "startDate": SITES_FROM,
                "endDate": None,
                "builder": builder,
                "subcontractors": subcontractors,
                "address": {
                    "postCode": post_code,
                    "municipalityName": municipality,
                    "streetName": street,
                    "houseNumber": str(len(d["declarationsOfWorks"]) + 1),
                },
                "coordinates": {"latitude": latitude, "longitude": longitude},
                "radiusMeters": 150,
            }
            | changes
        )
        return number

    own_site = site("construction", enterprise_number, [partner, stopped, unfounded])
    site("construction", partner, [enterprise_number])
    site("meat", partner, [enterprise_number])
    site("cleaning", enterprise_number, [partner])
    site("cleaning", partner, [enterprise_number])
    site("construction", enterprise_number, [], amount=250_000)  # remark 13
    site("construction", enterprise_number, [], endDate=ENDED_ON)  # remark 11
    world.operator_presences = [
        (crew[-1], enterprise_number, own_site, 0),  # remark 14, today
        (crew[-1], enterprise_number, own_site, 1),  # remark 14, tomorrow
        (crew[-2], partner, own_site, 0),  # the builder sees it, may not cancel it: code 1
    ]
    return world
