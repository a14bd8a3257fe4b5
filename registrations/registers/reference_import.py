"""Importing reference registers from a JSON file (format: docs/reference-data.md).

All or nothing: every row is checked first and every problem reported with its position
(`dimonas[3].niss: ...`); only a file without any problem is written, in one transaction,
upserting on each register's natural key. Founders and parties are replaced as a whole for
the enterprises and declarations the file lists. The registrations the change can affect are
queued for revalidation after commit.
"""

import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from types import UnionType
from typing import Any

from django.db import models, transaction

from registrations.domain.identifiers import normalise_enterprise_number, normalise_niss, normalise_workplace_id
from registrations.domain.reference_changes import ReferenceKeys
from registrations.domain.vocabulary import Sector
from registrations.models import (
    DeclarationOfWorks,
    DeclarationParty,
    DimonaPeriod,
    Enterprise,
    EnterpriseFounder,
    LimosaDeclaration,
    Person,
    SelfEmployedPeriod,
)
from registrations.registers.addresses import fold_name, municipality_for
from registrations.services.revalidation import reference_changed

SECTIONS = ("persons", "enterprises", "selfEmployed", "dimonas", "limosas", "declarationsOfWorks")


class ReferenceImportError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


class _RowError(Exception):
    pass


# Problems name positions and reasons, never a submitted value (docs/reference-data.md). A key
# is named back only when it looks like a field name; any other key may be data pasted in the
# wrong place (a NISS, a name), so it is only counted.
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")


def _key_names(keys: Collection[str]) -> str:
    names = sorted(key for key in keys if _FIELD_NAME.fullmatch(key))
    hidden = sum(1 for key in keys if not _FIELD_NAME.fullmatch(key))
    return ", ".join([*names, *([f"{hidden} not shown (not a field name)"] if hidden else [])])


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=dict)
    keys: ReferenceKeys = field(default_factory=ReferenceKeys)


# --- field readers: each returns the clean value or raises _RowError ------------------------


def _identifier(normalise: Callable[[Any], object], accepts: type | UnionType, problem: str) -> Callable[[Any], str]:
    """A reader for an identifier: the core's normalisation, its error as a row problem."""

    def read(value: Any) -> str:
        checked = normalise(value) if isinstance(value, accepts) and not isinstance(value, bool) else None
        if not isinstance(checked, str):
            raise _RowError(problem)
        return checked

    return read


_niss = _identifier(normalise_niss, str, "not a valid NISS or BIS number")
_enterprise = _identifier(normalise_enterprise_number, str | int, "not a valid enterprise number")
_workplace = _identifier(normalise_workplace_id, str, "not a Declaration of Works number (13 characters)")


def _date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise _RowError("not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _RowError("not a date (YYYY-MM-DD)") from exc


def _optional_date(value: Any) -> date | None:
    return None if value is None else _date(value)


def _text(max_length: int, *, required: bool = True) -> Callable[[Any], str]:
    def read(value: Any) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_length:
            raise _RowError(f"text of 1 to {max_length} characters expected")
        return value.strip()

    return read


def _digits(value: Any) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 32:
        raise _RowError("a string of up to 32 digits expected")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _RowError("true or false expected")
    return value


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)) if isinstance(value, int | float | str) else None
    except InvalidOperation:
        amount = None
    # The register keeps 12 digits before the decimal point and 2 after (cents).
    if amount is None or not amount.is_finite() or amount < 0 or amount >= 10**12 or amount != round(amount, 2):
        raise _RowError("an amount in euro from 0 to 999999999999.99, at most 2 decimals, expected")
    return amount


def _coordinate(low: float, high: float) -> Callable[[Any], Decimal]:
    def read(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _RowError("a finite number expected")
        if not low <= value <= high:
            raise _RowError(f"between {low} and {high} expected")
        return Decimal(str(round(value, 6)))

    return read


def _read(row: Any, spec: dict[str, Callable[[Any], Any]], optional: set[str], where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise _RowError(f"{where}: an object expected")
    unknown = set(row) - set(spec)
    if unknown:
        raise _RowError(f"{where}: unknown key(s) {_key_names(unknown)}")
    clean = {}
    for key, reader in spec.items():
        if key not in row and key not in optional:
            raise _RowError(f"{where}.{key}: missing")
        try:
            clean[key] = reader(row.get(key))
        except _RowError as exc:
            raise _RowError(f"{where}.{key}: {exc}") from exc
    return clean


def _list_of(read: Callable[[Any], str], value: Any, where: str, what: str) -> list[str]:
    """A list (absent = empty) whose every element `read` accepts; problems name the index."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _RowError(f"{where}: a list of {what} expected")
    clean = []
    for index, element in enumerate(value):
        try:
            clean.append(read(element))
        except _RowError as exc:
            raise _RowError(f"{where}[{index}]: {exc}") from exc
    return clean


def _check_period(clean: dict[str, Any], start: str, end: str, where: str) -> None:
    if clean[end] is not None and clean[end] < clean[start]:
        raise _RowError(f"{where}.{end}: before {start}")


# --- sections: each turns one row into model rows, its natural key and the keys it touches ---


@dataclass
class _Parsed:
    key: tuple[Any, ...]
    rows: list[models.Model]
    touches: ReferenceKeys


def _person(row: Any, where: str) -> _Parsed:
    c = _read(
        row,
        {"niss": _niss, "givenName": _text(100), "familyName": _text(100), "birthDate": _optional_date},
        {"birthDate"},
        where,
    )
    person = Person(niss=c["niss"], given_name=c["givenName"], family_name=c["familyName"], birth_date=c["birthDate"])
    return _Parsed((c["niss"],), [person], ReferenceKeys(nisses={c["niss"]}))


def _enterprise_row(row: Any, where: str) -> _Parsed:
    c = _read(
        row,
        {
            "enterpriseNumber": _enterprise,
            "name": _text(200),
            "activeFrom": _date,
            "activeTo": _optional_date,
            "naturalPerson": _bool,
            "founders": lambda value: value,
        },
        {"activeTo", "founders"},
        where,
    )
    _check_period(c, "activeFrom", "activeTo", where)
    founders = _list_of(_niss, c["founders"], f"{where}.founders", "NISS")
    number = c["enterpriseNumber"]
    enterprise = Enterprise(
        enterprise_number=number,
        name=c["name"],
        active_from=c["activeFrom"],
        active_to=c["activeTo"],
        natural_person=c["naturalPerson"],
    )
    rows: list[models.Model] = [enterprise]
    rows += [EnterpriseFounder(enterprise_id=number, niss=niss) for niss in sorted(set(founders))]
    return _Parsed((number,), rows, ReferenceKeys(enterprises={number}))


def _self_employed(row: Any, where: str) -> _Parsed:
    c = _read(row, {"niss": _niss, "from": _date, "to": _optional_date}, {"to"}, where)
    _check_period(c, "from", "to", where)
    period = SelfEmployedPeriod(niss=c["niss"], start=c["from"], end=c["to"])
    return _Parsed((c["niss"], c["from"]), [period], ReferenceKeys(nisses={c["niss"]}))


def _dimona(row: Any, where: str) -> _Parsed:
    c = _read(
        row,
        {
            "employer": _enterprise,
            "niss": _niss,
            "from": _date,
            "to": _optional_date,
            "workerType": lambda value: value,
            "userCompany": lambda value: None if value in (None, "") else _enterprise(value),
        },
        {"to", "userCompany"},
        where,
    )
    _check_period(c, "from", "to", where)
    if c["workerType"] not in DimonaPeriod.WorkerType.values:
        raise _RowError(f"{where}.workerType: one of {', '.join(DimonaPeriod.WorkerType.values)} expected")
    user_company = c["userCompany"] or ""
    dimona = DimonaPeriod(
        employer=c["employer"],
        niss=c["niss"],
        start=c["from"],
        end=c["to"],
        worker_type=c["workerType"],
        user_company=user_company,
    )
    touches = ReferenceKeys(nisses={c["niss"]})
    return _Parsed((c["employer"], c["niss"], c["from"], user_company), [dimona], touches)


def _limosa(row: Any, where: str) -> _Parsed:
    c = _read(
        row,
        {
            "limosaId": _digits,
            "niss": lambda value: "" if value in (None, "") else _niss(value),
            "foreignEmployerVat": _text(32, required=False),
            "belgianClient": lambda value: "" if value in (None, "") else _enterprise(value),
            "from": _date,
            "to": _optional_date,
        },
        {"niss", "foreignEmployerVat", "belgianClient", "to"},
        where,
    )
    _check_period(c, "from", "to", where)
    declaration = LimosaDeclaration(
        limosa_id=c["limosaId"],
        niss=c["niss"],
        foreign_employer_vat=c["foreignEmployerVat"],
        belgian_client=c["belgianClient"],
        start=c["from"],
        end=c["to"],
    )
    touches = ReferenceKeys(limosa_ids={c["limosaId"]}, nisses={c["niss"]} if c["niss"] else set())
    return _Parsed((c["limosaId"],), [declaration], touches)


_ADDRESS = {
    "postCode": _text(4, required=False),
    "municipalityName": _text(100, required=False),
    "streetName": _text(200, required=False),
    "houseNumber": _text(16, required=False),
    "boxNumber": _text(16, required=False),
}


def _normalised_address(address: dict[str, str], where: str) -> dict[str, str]:
    """A declaration's postal code must be Belgian and serve the municipality named (in any
    of its languages); the municipality is then stored under its official name."""
    if not address["postCode"]:
        return address
    municipality = municipality_for(address["postCode"], address["municipalityName"])
    if municipality is None:
        named = " of that name" if address["municipalityName"] else ""
        raise _RowError(f"{where}.address: the postal code does not serve a municipality{named}")
    given = fold_name(address["municipalityName"])
    # The official spelling in the language the file used (Liege -> Liège), else the first.
    official = next((name for name in municipality.names.values() if fold_name(name) == given), None)
    return {**address, "municipalityName": official or next(iter(municipality.names.values()))}


def _declaration(row: Any, where: str) -> _Parsed:
    c = _read(
        row,
        {
            "number": _workplace,
            "sector": lambda value: value,
            "amount": _amount,
            "startDate": _date,
            "endDate": _optional_date,
            "builder": _enterprise,
            "subcontractors": lambda value: value,
            "address": lambda value: value,
            "coordinates": lambda value: value,
            "radiusMeters": lambda value: value,
        },
        {"endDate", "subcontractors", "address", "coordinates", "radiusMeters"},
        where,
    )
    _check_period(c, "startDate", "endDate", where)
    if type(c["sector"]) is not int or c["sector"] not in (Sector.CONSTRUCTION, Sector.MEAT, Sector.CLEANING):
        raise _RowError(f"{where}.sector: 1 (construction), 3 (meat) or 4 (cleaning) expected")
    address = _normalised_address(_read(c["address"] or {}, _ADDRESS, set(_ADDRESS), f"{where}.address"), where)
    coordinates = c["coordinates"]
    if coordinates is not None:
        coordinates = _read(
            coordinates,
            {"latitude": _coordinate(-90, 90), "longitude": _coordinate(-180, 180)},
            set(),
            f"{where}.coordinates",
        )
    radius = 150 if c["radiusMeters"] is None else c["radiusMeters"]
    if isinstance(radius, bool) or not isinstance(radius, int) or not 1 <= radius <= 100_000:
        raise _RowError(f"{where}.radiusMeters: a whole number of metres from 1 to 100000 expected")
    subcontractors = _list_of(_enterprise, c["subcontractors"], f"{where}.subcontractors", "enterprise numbers")
    number = c["number"]
    declaration = DeclarationOfWorks(
        number=number,
        sector=c["sector"],
        amount=c["amount"],
        start_date=c["startDate"],
        end_date=c["endDate"],
        builder=c["builder"],
        post_code=address["postCode"],
        municipality_name=address["municipalityName"],
        street_name=address["streetName"],
        house_number=address["houseNumber"],
        box_number=address["boxNumber"],
        latitude=coordinates["latitude"] if coordinates else None,
        longitude=coordinates["longitude"] if coordinates else None,
        radius_meters=radius,
    )
    parties: list[models.Model] = [
        DeclarationParty(declaration_id=number, enterprise_number=c["builder"], role=DeclarationParty.Role.BUILDER)
    ]
    parties += [
        DeclarationParty(declaration_id=number, enterprise_number=sub, role=DeclarationParty.Role.SUBCONTRACTOR)
        for sub in sorted(set(subcontractors))
    ]
    return _Parsed((number,), [declaration, *parties], ReferenceKeys(workplaces={number}))


_PARSERS: dict[str, Callable[[Any, str], _Parsed]] = {
    "persons": _person,
    "enterprises": _enterprise_row,
    "selfEmployed": _self_employed,
    "dimonas": _dimona,
    "limosas": _limosa,
    "declarationsOfWorks": _declaration,
}
# How each register upserts: the model's natural key and the fields an import overwrites.
_UPSERT: dict[type[models.Model], tuple[list[str], list[str]]] = {
    Person: (["niss"], ["given_name", "family_name", "birth_date"]),
    Enterprise: (["enterprise_number"], ["name", "active_from", "active_to", "natural_person"]),
    SelfEmployedPeriod: (["niss", "start"], ["end"]),
    DimonaPeriod: (["employer", "niss", "start", "user_company"], ["end", "worker_type"]),
    LimosaDeclaration: (["limosa_id"], ["niss", "foreign_employer_vat", "belgian_client", "start", "end"]),
    DeclarationOfWorks: (
        ["number"],
        [
            "sector",
            "amount",
            "start_date",
            "end_date",
            "builder",
            "post_code",
            "municipality_name",
            "street_name",
            "house_number",
            "box_number",
            "latitude",
            "longitude",
            "radius_meters",
        ],
    ),
}


def _parse(data: Any) -> tuple[dict[str, list[_Parsed]], list[str]]:
    if not isinstance(data, dict):
        return {}, ["the file must hold one JSON object"]
    unknown = [key for key in data if key not in SECTIONS]
    problems = [f"{_key_names(unknown)}: unknown section (expected {', '.join(SECTIONS)})"] if unknown else []
    parsed: dict[str, list[_Parsed]] = {}
    for section in SECTIONS:
        rows = data.get(section, [])
        if not isinstance(rows, list):
            problems.append(f"{section}: a list expected")
            continue
        seen: dict[tuple[Any, ...], int] = {}
        parsed[section] = []
        for index, row in enumerate(rows):
            where = f"{section}[{index}]"
            try:
                entry = _PARSERS[section](row, where)
            except _RowError as exc:
                problems.append(str(exc))
                continue
            if entry.key in seen:
                problems.append(f"{where}: same key as {section}[{seen[entry.key]}]")
                continue
            seen[entry.key] = index
            parsed[section].append(entry)
    return parsed, problems


def reference_import(data: Any) -> ImportReport:
    """Check and import a reference file. Raises ReferenceImportError listing every problem."""
    parsed, problems = _parse(data)
    if problems:
        raise ReferenceImportError(problems)
    report = ImportReport()
    with transaction.atomic():
        for section, entries in parsed.items():
            _write(section, entries)
            report.counts[section] = len(entries)
            for entry in entries:
                report.keys.update(entry.touches)
        reference_changed(report.keys)
    return report


def _write(section: str, entries: list[_Parsed]) -> None:
    by_model: dict[type[models.Model], list[models.Model]] = {}
    for entry in entries:
        for row in entry.rows:
            by_model.setdefault(type(row), []).append(row)
    if section == "enterprises":
        numbers = [entry.key[0] for entry in entries]
        EnterpriseFounder.objects.filter(enterprise_id__in=numbers).delete()
    if section == "declarationsOfWorks":
        numbers = [entry.key[0] for entry in entries]
        DeclarationParty.objects.filter(declaration_id__in=numbers).delete()
    for model, rows in by_model.items():
        if model in _UPSERT:
            unique_fields, update_fields = _UPSERT[model]
            model._default_manager.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=unique_fields,
                update_fields=update_fields,
                batch_size=1000,
            )
        else:  # founders and parties: replaced above, inserted fresh
            model._default_manager.bulk_create(rows, batch_size=1000)
