"""The demo sheet (`manage.py demo_sheet`): for each demo client, what it can send and what
comes back (docs/sandbox.md).

Everything is found in the database, by queries, when the sheet is asked for: the clean
combinations are the client's own employees on its own sites, a remark's combination is
found by the facts that raise it (a company with no Dimona for the person, a declaration
that has ended, ...), and the registrations to cancel are looked up through the client's own
visibility. So the sheet stays true on a database that has lived for a while: a person who
already has another sender's registration today is left out, a cleaning worker still
checked in is left out, and what cannot be found any more is reported as not available.

A combination is a list of steps, each one item of a SOAP `registerPresences` (channel
`soap`) or of a REST `registerInBulk` (channel `rest`), written with the contract's own
field names, and the outcome it gets. Dates are rules, resolved when the item is sent:
`today`, `tomorrow`, `today+2` (Europe/Brussels) for SOAP; `now`, `now-15min`, `now+5min`
for the moment of a cleaning event. The JSON form (`--json`) is the data file of
`manage.py conformance --data` (its format is in docs/sandbox.md).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from stdnum.be import bis, ssn

from registrations.domain.identifiers import is_bis
from registrations.domain.remarks import REMARKS
from registrations.models import (
    Client,
    ClientRole,
    DeclarationOfWorks,
    DeclarationParty,
    DimonaPeriod,
    Enterprise,
    EnterpriseFounder,
    LimosaDeclaration,
    Person,
    Registration,
    Sector,
    SelfEmployedPeriod,
    Status,
)
from registrations.registers.addresses import addresses_near
from registrations.selectors.clients import caller_for_client
from registrations.selectors.registrations import CLEANING_EVENT, registrations_visible_to

FORMAT = 1
# The higher of the two construction thresholds (spec §4.2, remark 13): a site at or above it
# is subject to registration whenever its works started; one below the lower one never is.
SUBJECT_FROM = Decimal(800_000)
NOT_SUBJECT_BELOW = Decimal(500_000)
# 400 m north of a cleaning site: outside its radius (remark 18) for any radius up to 400 m.
OUTSIDE_RADIUS_DEGREES = Decimal("0.0036")
SECTOR_NAMES = {Sector.CONSTRUCTION: "construction", Sector.MEAT: "meat", Sector.CLEANING: "cleaning"}
_SOAP_SECTORS = (Sector.CONSTRUCTION, Sector.SECURITY, Sector.MEAT)


@dataclass(frozen=True)
class Expect:
    """What a step gets: stored (`registered`) with the remarks its validation gives, or
    refused at admission (`refused`) with these error codes and nothing stored."""

    outcome: str
    remarks: tuple[int, ...] = ()
    errors: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        if self.outcome == "refused":
            return {"outcome": "refused", "errors": list(self.errors)}
        return {"outcome": "registered", "remarks": list(self.remarks)}


@dataclass(frozen=True)
class Step:
    channel: str  # "soap" or "rest"
    item: dict[str, Any]
    expect: Expect


@dataclass(frozen=True)
class Combination:
    key: str
    sector: str
    title: str
    steps: tuple[Step, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "sector": self.sector,
            "title": self.title,
            "steps": [
                {"channel": step.channel, "item": step.item, "expect": step.expect.as_json()} for step in self.steps
            ],
        }


@dataclass(frozen=True)
class Cancellation:
    code: int
    title: str
    registration_id: int


@dataclass
class ClientSheet:
    name: str
    role: str
    enterprise_number: str
    files: str  # the base name of its files in DEMO_CREDENTIALS_DIR
    client_id: str
    may_register: bool
    clean: list[Combination] = field(default_factory=list)
    remarks: list[Combination] = field(default_factory=list)
    missing_remarks: list[int] = field(default_factory=list)
    admission_errors: list[Combination] = field(default_factory=list)
    cancellations: list[Cancellation] = field(default_factory=list)
    cleaning_site: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "clientId": self.client_id,
            "enterpriseNumber": self.enterprise_number,
            "credentials": {
                "clientId": f"{self.files}.client-id",
                "key": f"{self.files}.key.pem",
                "certificate": f"{self.files}.cert.pem",
            },
            "mayRegister": self.may_register,
            "clean": [combination.as_json() for combination in self.clean],
            "remarks": [combination.as_json() for combination in self.remarks],
            "remarksNotAvailable": self.missing_remarks,
            "admissionErrors": [combination.as_json() for combination in self.admission_errors],
            "cancellations": [
                {"code": c.code, "title": c.title, "registrationId": c.registration_id} for c in self.cancellations
            ],
            "cleaningSite": self.cleaning_site,
        }


def demo_clients() -> list[tuple[Client, str]]:
    """The demo clients: those whose id `seed_demo` (or `create_demo_client`) wrote to
    DEMO_CREDENTIALS_DIR, with the base name of their files there; enterprise clients first."""
    files = {
        path.read_text().strip(): path.name.removesuffix(".client-id")
        for path in Path(settings.DEMO_CREDENTIALS_DIR).glob("*.client-id")
    }
    clients = Client.objects.filter(is_active=True, id__in=[i for i in files if _is_uuid(i)]).order_by("role", "name")
    return [(client, files[str(client.id)]) for client in clients]


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def demo_sheet() -> list[ClientSheet]:
    """The sheet of every active demo client."""
    return [client_sheet(client, files=files) for client, files in demo_clients()]


def client_sheet(client: Client, *, files: str = "") -> ClientSheet:
    """What this client can send and what comes back (a client of a demo enterprise, such as a
    sandbox sign-up, gets the demo's combinations); `files`: its credentials' base name, if any."""
    sheet = ClientSheet(
        name=client.name,
        role=str(client.role),
        enterprise_number=client.enterprise_number,
        files=files,
        client_id=str(client.id),
        may_register=client.role == ClientRole.ENTERPRISE,
    )
    if sheet.may_register:
        _Finder(client).fill(sheet)
    return sheet


def sheet_json(sheets: list[ClientSheet]) -> dict[str, Any]:
    return {"format": FORMAT, "clients": [sheet.as_json() for sheet in sheets]}


# --- identifiers that the registers do not know (candidates checked by query) -------------


def _with_check(base: str) -> str:
    return f"{base}{97 - int(base) % 97:02d}"


def _wrong_check(number: str) -> str:
    """The same number with other check digits: well-formed, fails modulo 97."""
    check = int(number[-2:])
    return f"{number[:-2]}{check % 97 + 1:02d}"


def _unknown_enterprise_number() -> str:
    known = set(Enterprise.objects.values_list("enterprise_number", flat=True))
    known |= set(DeclarationParty.objects.values_list("enterprise_number", flat=True))
    known |= set(DimonaPeriod.objects.values_list("employer", flat=True))
    return next(n for body in range(9_999_999, 0, -1) if (n := _with_check(f"0{body:07d}")) not in known)


def _unknown_niss(taken: set[str]) -> str:
    return next(
        niss
        for serial in range(1, 998)
        if (niss := _with_check(f"900101{serial:03d}")) not in taken and ssn.is_valid(niss)
    )


def _unknown_bis(taken: set[str]) -> str:
    """A BIS number (birth month + 20) no register holds."""
    return next(
        number
        for serial in range(1, 998)
        if (number := _with_check(f"852130{serial:03d}")) not in taken and bis.is_valid(number)
    )


def _unknown_limosa_id() -> str:
    known = set(LimosaDeclaration.objects.values_list("limosa_id", flat=True))
    return next(limosa for serial in range(1, 10_000) if (limosa := f"1999999999999{serial:04d}") not in known)


def _unknown_workplace() -> str:
    known = set(DeclarationOfWorks.objects.values_list("number", flat=True))
    return next(number for serial in range(1, 10_000_000) if (number := f"UNKNWN{serial:07d}") not in known)


# --- the finder: one client's sheet ---------------------------------------------------------


class _Finder:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.e = client.enterprise_number
        self.today = timezone.localdate()
        self.tomorrow = self.today + timedelta(days=1)
        self.site = ""  # our construction site, as builder
        self.employee = ""  # our first employee free today
        self.cleaning_sites: dict[str, DeclarationOfWorks] = {}  # by our role there

    # periods covering today and tomorrow (so "tomorrow" combinations hold too)
    def _covering(self, start: str, end: str) -> Q:
        return Q(**{f"{start}__lte": self.today}) & (
            Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": self.tomorrow})
        )

    def _sites(self, sector: Sector, *, role: str | None = None, party: bool = True) -> QuerySet[DeclarationOfWorks]:
        parties = DeclarationParty.objects.filter(enterprise_number=self.e)
        if role:
            parties = parties.filter(role=role)
        sites = DeclarationOfWorks.objects.filter(self._covering("start_date", "end_date"), sector=sector)
        if sector == Sector.CONSTRUCTION:
            sites = sites.filter(amount__gte=SUBJECT_FROM)
        ids = parties.values("declaration_id")
        return (sites.filter(number__in=ids) if party else sites.exclude(number__in=ids)).order_by("number")

    @cached_property
    def _busy(self) -> set[str]:
        """People another sender registered today or tomorrow (our item would be a duplicate,
        remark 14), and people whose registration by this client on our site failed (a resend
        is answered with that one). Computed once `self.site` is known."""
        rows = Registration.objects.filter(registration_date__in=(self.today, self.tomorrow)).exclude(
            status=Status.CANCELLED
        )
        return set(
            rows.filter(
                ~Q(sender=self.client) | Q(sender__isnull=True) | Q(status=Status.FAILED, workplace_id=self.site)
            ).values_list("niss", flat=True)
        )

    def _employees(self, employer: str) -> list[str]:
        with_contract = DimonaPeriod.objects.filter(self._covering("start", "end"), employer=employer)
        people = Person.objects.filter(niss__in=with_contract.values("niss")).exclude(niss__in=self._busy)
        return [niss for niss in people.order_by("niss").values_list("niss", flat=True) if not is_bis(niss)]

    def _unrelated(self, company: str, *, self_employed: bool = False) -> str | None:
        """A person of the National Register with no Dimona with `company`, not its founder,
        self-employed today or not as asked."""
        related = DimonaPeriod.objects.filter(Q(employer=company) | Q(user_company=company)).values("niss")
        founders = EnterpriseFounder.objects.filter(enterprise_id=company).values("niss")
        working_alone = SelfEmployedPeriod.objects.filter(self._covering("start", "end")).values("niss")
        people = Person.objects.exclude(niss__in=related).exclude(niss__in=founders).exclude(niss__in=self._busy)
        people = people.filter(niss__in=working_alone) if self_employed else people.exclude(niss__in=working_alone)
        return next((n for n in people.order_by("niss").values_list("niss", flat=True) if not is_bis(n)), None)

    def _partner(self, site: str, **conditions: Any) -> str | None:
        """An enterprise other than ours that is a party of `site`, as `conditions` say."""
        parties = DeclarationParty.objects.filter(declaration_id=site).exclude(enterprise_number=self.e)
        enterprises = Enterprise.objects.filter(enterprise_number__in=parties.values("enterprise_number"))
        found = enterprises.filter(**conditions).order_by("enterprise_number").first()
        return found.enterprise_number if found else None

    def fill(self, sheet: ClientSheet) -> None:
        builder_site = self._sites(Sector.CONSTRUCTION, role=DeclarationParty.Role.BUILDER).first()
        if builder_site is None:
            return  # nothing to register cleanly: the sheet says so (no combination at all)
        self.site = builder_site.number
        employees = self._employees(self.e)
        if not employees:
            return
        self.employee = employees[0]
        sheet.clean = list(self._clean(employees))
        cleaning = self._cleaning_people()
        sheet.clean += list(self._clean_cleaning(cleaning))
        found = dict(self._remarks(cleaning))
        sheet.remarks = [found[number] for number in sorted(found)]
        sheet.missing_remarks = [number for number in sorted(REMARKS) if number not in found]
        sheet.admission_errors = list(self._soap_errors()) + list(self._rest_errors(cleaning))
        sheet.cancellations = list(self._cancellations())
        sheet.cleaning_site = self._cleaning_site_json()

    # --- SOAP items ----------------------------------------------------------------------

    def _presence(self, *, niss: str | None = None, company: str | None = None, **other: str) -> dict[str, Any]:
        item: dict[str, Any] = {"RegistrationDate": other.pop("date", "today")}
        if "limosa" in other:
            item["LimosaId"] = other.pop("limosa")
        else:
            item |= {"INSS": niss or self.employee, "CompanyID": company or self.e}
        return item | {"WorkPlaceId": other.pop("site", self.site)}

    def _soap(self, key: str, sector: str, title: str, item: dict[str, Any], expect: Expect) -> Combination:
        return Combination(key, sector, title, (Step("soap", item, expect),))

    def _clean(self, employees: list[str]) -> Iterator[Combination]:
        clean = Expect("registered")
        for index, niss in enumerate(employees[:3]):
            yield self._soap(
                f"clean-construction-{index + 1}",
                "construction",
                "an employee of yours on your construction site",
                self._presence(niss=niss),
                clean,
            )
        yield self._soap(
            "clean-construction-tomorrow",
            "construction",
            "the same, registered a day ahead",
            self._presence(date="tomorrow"),
            clean,
        )
        sites = [
            ("construction", Sector.CONSTRUCTION, DeclarationParty.Role.SUBCONTRACTOR, "as subcontractor"),
            ("meat", Sector.MEAT, DeclarationParty.Role.BUILDER, "on your meat site"),
            ("meat", Sector.MEAT, DeclarationParty.Role.SUBCONTRACTOR, "on a meat site, as subcontractor"),
        ]
        for sector, code, role, how in sites:
            site = self._sites(code, role=role).first()
            if site:
                key = f"clean-{sector}-{'builder' if role == DeclarationParty.Role.BUILDER else 'subcontractor'}"
                yield self._soap(key, sector, f"an employee of yours {how}", self._presence(site=site.number), clean)
        founder = EnterpriseFounder.objects.filter(enterprise_id=self.e).exclude(niss__in=self._busy).first()
        if founder and Person.objects.filter(niss=founder.niss).exists():
            yield self._soap(
                "clean-founder",
                "construction",
                "your founder working on the site",
                self._presence(niss=founder.niss),
                clean,
            )
        posted = LimosaDeclaration.objects.filter(self._covering("start", "end")).order_by("limosa_id").first()
        if posted:
            yield self._soap(
                "clean-posted-worker",
                "construction",
                "a posted worker, by the Limosa declaration id",
                self._presence(limosa=posted.limosa_id),
                clean,
            )

    # --- REST items ----------------------------------------------------------------------

    def _cleaning_people(self) -> Iterator[str]:
        """Our employees not checked in on any cleaning site of ours, each for one use: a
        person's IN/OUT state must be known for the steps to hold, and two events of one
        person of the same type in the same minute are a duplicate (remark 14) even on two
        sites."""
        for role in (DeclarationParty.Role.BUILDER, DeclarationParty.Role.SUBCONTRACTOR):
            site = self._sites(Sector.CLEANING, role=role).first()
            if site:
                self.cleaning_sites[role] = site
        return iter(
            [
                niss
                for niss in self._employees(self.e)
                if not any(self._checked_in(niss, site.number) for site in self.cleaning_sites.values())
            ]
        )

    def _checked_in(self, niss: str, site: str) -> bool:
        last = (
            Registration.objects.filter(CLEANING_EVENT, niss=niss, workplace_id=site, enterprise_number=self.e)
            .exclude(status=Status.CANCELLED)
            .order_by("-event_at", "-id")
            .first()
        )
        return last is not None and last.event_type == "IN"

    def _event(self, site: DeclarationOfWorks, niss: str, kind: str, at: str = "now", **other: Any) -> dict[str, Any]:
        latitude, longitude = other.pop("coordinates", (site.latitude, site.longitude))
        item = {
            "registrationDate": at,
            "ssin": niss,
            "type": kind,
            "employer": other.pop("employer", {"enterpriseNumber": self.e}),
            "placeOfWork": {"coordinates": {"latitude": float(latitude), "longitude": float(longitude)}},
            "contractualRelationshipReference": other.pop("reference", site.number),
        }
        return item | other

    def _clean_cleaning(self, people: Iterator[str]) -> Iterator[Combination]:
        clean = Expect("registered")
        for role, count in ((DeclarationParty.Role.BUILDER, 3), (DeclarationParty.Role.SUBCONTRACTOR, 1)):
            site: DeclarationOfWorks | None = self.cleaning_sites.get(role)
            for index in range(count):
                niss = next(people, None)
                if site is None or niss is None:
                    break
                how = (
                    "your cleaning site" if role == DeclarationParty.Role.BUILDER else "a cleaning site (subcontractor)"
                )
                yield Combination(
                    f"clean-cleaning-{role}-{index + 1}",
                    "cleaning",
                    f"an employee of yours checks in on {how}, then out",
                    (
                        Step("rest", self._event(site, niss, "in"), clean),
                        Step("rest", self._event(site, niss, "out"), clean),
                    ),
                )

    # --- remarks -------------------------------------------------------------------------

    def _remarks(self, cleaning: Iterator[str]) -> Iterator[tuple[int, Combination]]:
        x = self._partner(self.site, natural_person=False, active_to__isnull=True)
        for number, item, extra in self._remark_items(x):
            if item is None:
                continue
            expected = tuple(sorted({number, *extra}))
            yield (
                number,
                self._soap(
                    f"remark-{number:02d}", "construction", REMARKS[number].text, item, Expect("registered", expected)
                ),
            )
        site: DeclarationOfWorks | None = self.cleaning_sites.get(DeclarationParty.Role.BUILDER)
        niss = next(cleaning, None)
        if site is not None and niss is not None and site.latitude is not None and site.longitude is not None:
            far = (site.latitude + OUTSIDE_RADIUS_DEGREES, site.longitude)
            steps = (
                Step("rest", self._event(site, niss, "in", coordinates=far), Expect("registered", (18,))),
                Step("rest", self._event(site, niss, "out"), Expect("registered")),
            )
            yield 18, Combination("remark-18", "cleaning", REMARKS[18].text, steps)

    def _remark_items(self, x: str | None) -> Iterator[tuple[int, dict[str, Any] | None, tuple[int, ...]]]:
        """(remark, SOAP item or None when the database has no such case, the other remarks
        the same item raises). `x` is a company on our site that is not ours."""
        taken = self._all_niss()
        unknown_company = _unknown_enterprise_number()
        yield 1, self._for_unrelated(x), ()
        yield 2, self._for_unrelated(self._sole_trader(with_founder=True)), ()
        yield 3, self._for_unrelated(self._sole_trader(with_founder=False)), ()
        yield 4, self._for_unrelated(unknown_company), (1, 12)
        yield 5, self._for_unrelated(x, self_employed=True), ()
        yield 6, self._presence(limosa=_unknown_limosa_id()), ()
        ended = LimosaDeclaration.objects.filter(Q(end__lt=self.today) | Q(start__gt=self.today)).order_by("limosa_id")
        yield 7, self._presence(limosa=ended[0].limosa_id) if ended else None, ()
        yield 8, self._presence(niss=_unknown_bis(taken), company=x) if x else None, ()
        yield 9, self._bis_no_longer_posted(x) if x else None, ()
        yield 10, self._presence(site=_unknown_workplace()), ()
        yield 11, self._ended_site(), ()
        yield 12, self._foreign_site(), ()
        yield 13, self._not_subject_site(), ()
        yield 14, self._registered_by_another_sender(), ()
        yield 15, self._presence(niss=_unknown_niss(taken), company=x) if x else None, (1,)
        yield 16, self._stopped_employer(), ()
        yield 17, self._ended_contract(), ()

    def _for_unrelated(self, company: str | None, *, self_employed: bool = False) -> dict[str, Any] | None:
        """A person with no relation to `company`, registered for it."""
        niss = self._unrelated(company, self_employed=self_employed) if company else None
        return self._presence(niss=niss, company=company) if niss and company else None

    def _sole_trader(self, *, with_founder: bool) -> str | None:
        """A sole trader active today, with or without a founder on record: our own
        enterprise when it is one, else a party of our site."""
        founded = EnterpriseFounder.objects.values("enterprise_id")
        traders = Enterprise.objects.filter(self._covering("active_from", "active_to"), natural_person=True)
        if with_founder:
            traders = traders.filter(enterprise_number__in=founded)
        else:
            traders = traders.exclude(enterprise_number__in=founded)
        if traders.filter(enterprise_number=self.e).exists():
            return self.e
        parties = DeclarationParty.objects.filter(declaration_id=self.site).values("enterprise_number")
        found = traders.filter(enterprise_number__in=parties).order_by("enterprise_number").first()
        return found.enterprise_number if found else None

    def _all_niss(self) -> set[str]:
        taken = set(Person.objects.values_list("niss", flat=True))
        taken |= set(DimonaPeriod.objects.values_list("niss", flat=True))
        taken |= set(LimosaDeclaration.objects.values_list("niss", flat=True))
        taken |= set(SelfEmployedPeriod.objects.values_list("niss", flat=True))
        taken |= set(EnterpriseFounder.objects.values_list("niss", flat=True))
        return taken | set(Registration.objects.values_list("niss", flat=True))

    def _bis_no_longer_posted(self, company: str) -> dict[str, Any] | None:
        declarations: dict[str, list[LimosaDeclaration]] = {}
        for declaration in LimosaDeclaration.objects.exclude(niss="").order_by("niss"):
            declarations.setdefault(declaration.niss, []).append(declaration)
        related = set(DimonaPeriod.objects.filter(employer=company).values_list("niss", flat=True))
        for niss, posted in declarations.items():
            active = any(d.start <= self.today and (d.end is None or self.today <= d.end) for d in posted)
            if is_bis(niss) and not active and niss not in related and niss not in self._busy:
                return self._presence(niss=niss, company=company)
        return None

    def _ended_site(self) -> dict[str, Any] | None:
        parties = DeclarationParty.objects.filter(enterprise_number=self.e).values("declaration_id")
        site = (
            DeclarationOfWorks.objects.filter(
                number__in=parties, sector=Sector.CONSTRUCTION, end_date__lt=self.today, amount__gte=SUBJECT_FROM
            )
            .order_by("number")
            .first()
        )
        return self._presence(site=site.number) if site else None

    def _foreign_site(self) -> dict[str, Any] | None:
        site = self._sites(Sector.CONSTRUCTION, party=False).first()
        return self._presence(site=site.number) if site else None

    def _not_subject_site(self) -> dict[str, Any] | None:
        parties = DeclarationParty.objects.filter(enterprise_number=self.e).values("declaration_id")
        small = (
            DeclarationOfWorks.objects.filter(
                self._covering("start_date", "end_date"),
                number__in=parties,
                sector=Sector.CONSTRUCTION,
                amount__lt=NOT_SUBJECT_BELOW,
            )
            .order_by("number")
            .first()
        )
        return self._presence(site=small.number) if small else None

    def _registered_by_another_sender(self) -> dict[str, Any] | None:
        """A clean presence of ours an operator registered first: ours comes second (14)."""
        own_sites = DeclarationParty.objects.filter(enterprise_number=self.e).values("declaration_id")
        earlier = Registration.objects.filter(
            sender__isnull=True,
            status=Status.VALIDATED,
            enterprise_number=self.e,
            workplace_id__in=own_sites,
            registration_date__in=(self.today, self.tomorrow),
            sector__in=_SOAP_SECTORS,
        ).order_by("registration_date", "id")
        for registration in earlier:
            ours_first = Registration.objects.filter(
                sender=self.client, dedup_key=registration.dedup_key, id__lt=registration.id
            ).exclude(status=Status.CANCELLED)
            if not ours_first.exists():
                day = "today" if registration.registration_date == self.today else "tomorrow"
                return self._presence(niss=registration.niss, site=registration.workplace_id, date=day)
        return None

    def _stopped_employer(self) -> dict[str, Any] | None:
        stopped = self._partner(self.site, active_to__lt=self.today)
        if stopped is None:
            return None
        contracts = DimonaPeriod.objects.filter(self._covering("start", "end"), employer=stopped)
        niss = (
            Person.objects.filter(niss__in=contracts.values("niss"))
            .exclude(niss__in=self._busy)
            .order_by("niss")
            .values_list("niss", flat=True)
            .first()
        )
        return self._presence(niss=niss, company=stopped) if niss else None

    def _ended_contract(self) -> dict[str, Any] | None:
        current = DimonaPeriod.objects.filter(self._covering("start", "end"), employer=self.e).values("niss")
        ended = DimonaPeriod.objects.filter(employer=self.e, end__lt=self.today).exclude(niss__in=current)
        niss = (
            Person.objects.filter(niss__in=ended.values("niss"))
            .exclude(niss__in=self._busy)
            .order_by("niss")
            .values_list("niss", flat=True)
            .first()
        )
        return self._presence(niss=niss) if niss else None

    # --- admission errors ----------------------------------------------------------------

    def _soap_errors(self) -> Iterator[Combination]:
        cases = [
            (2, "CompanyID is not a well-formed enterprise number", {"CompanyID": "2000000007"}),
            (3, "CompanyID fails the modulo 97 check", {"CompanyID": _wrong_check(self.e)}),
            (4, "WorkPlaceId is not a well-formed Declaration of Works number", {"WorkPlaceId": self.site[:12]}),
            (5, "INSS is not a valid NISS or BIS number", {"INSS": _wrong_check(self.employee)}),
            (6, "RegistrationDate is neither today nor tomorrow", {"RegistrationDate": "today+2"}),
        ]
        for code, title, change in cases:
            yield self._soap(
                f"error-soap-{code}",
                "construction",
                title,
                self._presence() | change,
                Expect("refused", errors=(code,)),
            )

    def _rest_errors(self, cleaning: Iterator[str]) -> Iterator[Combination]:
        site: DeclarationOfWorks | None = self.cleaning_sites.get(DeclarationParty.Role.BUILDER)
        people = cleaning
        refused_at_admission = next(people, None)
        if site is None or refused_at_admission is None:
            return
        created = Expect("registered")

        def refused(code: int) -> Expect:
            return Expect("refused", errors=(code,))

        def one(code: int, title: str, **change: Any) -> Combination:
            item = self._event(site, refused_at_admission, "in", **change)
            return Combination(f"error-rest-{code}", "cleaning", title, (Step("rest", item, refused(code)),))

        yield one(2, "employer.enterpriseNumber is not well-formed", employer={"enterpriseNumber": "2000000007"})
        yield one(
            3,
            "employer.enterpriseNumber fails the modulo 97 check",
            employer={"enterpriseNumber": _wrong_check(self.e)},
        )
        yield one(4, "contractualRelationshipReference is not well-formed", reference=site.number[:12])
        yield one(5, "ssin is not a valid NISS or BIS number", ssin=_wrong_check(refused_at_admission))
        yield one(12, "the event happened more than 10 minutes ago", registrationDate="now-15min")
        yield one(13, "the event is more than 2 minutes ahead", registrationDate="now+5min")
        stateful = [
            (14, "OUT without an open IN", [("out", "now", refused(14))]),
            (
                15,
                "IN while an IN is open (then the OUT that closes it)",
                [("in", "now-1min", created), ("in", "now", refused(15)), ("out", "now", created)],
            ),
            (
                16,
                "an event earlier than the last one (then the OUT that closes it)",
                [("in", "now", created), ("out", "now-3min", refused(16)), ("out", "now", created)],
            ),
        ]
        for code, title, moves in stateful:
            niss = next(people, None)
            if niss is None:
                return
            steps = tuple(Step("rest", self._event(site, niss, kind, at), expect) for kind, at, expect in moves)
            yield Combination(f"error-rest-{code}", "cleaning", title, steps)
        yield one(17, "a foreign VAT number that is Belgian", employer={"foreignVatNumber": "BE0200065765"})
        yield one(18, "coordinates that are not in Belgium", coordinates=(Decimal(0), Decimal(0)))
        yield one(19, "an activity outside the catalogue", activity="NOT_AN_ACTIVITY")

    # --- cancellation ---------------------------------------------------------------------

    def _cancellations(self) -> Iterator[Cancellation]:
        visible = registrations_visible_to(caller_for_client(self.client))
        soap_rows = visible.filter(sector__in=_SOAP_SECTORS).exclude(status=Status.CANCELLED).order_by("id")
        builder_sites = DeclarationParty.objects.filter(
            enterprise_number=self.e, role=DeclarationParty.Role.BUILDER
        ).values("declaration_id")
        others = soap_rows.filter(workplace_id__in=builder_sites).exclude(enterprise_number=self.e)
        not_ours = others.exclude(sender=self.client).first()
        if not_ours:
            yield Cancellation(
                1, "another employer's registration on your site: you see it, may not cancel it", not_ours.id
            )
        invisible = Registration.objects.exclude(id__in=visible.values("id")).order_by("id").first()
        if invisible:
            yield Cancellation(7, "another party's registration: answered as unknown", invisible.id)
        past = soap_rows.filter(Q(sender=self.client) | Q(enterprise_number=self.e), registration_date__lt=self.today)
        if past.exists():
            yield Cancellation(9, "one of yours dated before today: too late to cancel", past[0].id)

    def _cleaning_site_json(self) -> dict[str, Any] | None:
        site: DeclarationOfWorks | None = self.cleaning_sites.get(DeclarationParty.Role.BUILDER)
        if site is None or site.latitude is None or site.longitude is None:
            return None
        nearest = addresses_near(float(site.latitude), float(site.longitude), radius_m=site.radius_meters, limit=1)
        address = nearest[0].address if nearest else None
        return {
            "contractualRelationshipReference": site.number,
            "address": f"{site.street_name} {site.house_number}, {site.post_code} {site.municipality_name}",
            "coordinates": {"latitude": float(site.latitude), "longitude": float(site.longitude)},
            "radiusMeters": site.radius_meters,
            "nearbyAddress": address
            and {
                "postCode": address.post_code,
                "streetName": address.street_name_nl or address.street_name_fr or address.street_name_de,
                "houseNumber": address.house_number,
                "distanceMeters": round(nearest[0].distance_m),
            },
            "outsideRadius": {
                "latitude": float(site.latitude + OUTSIDE_RADIUS_DEGREES),
                "longitude": float(site.longitude),
            },
        }
