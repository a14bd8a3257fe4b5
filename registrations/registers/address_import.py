"""Importing the Belgian open address data (BeST flat CSV, docs/addresses.md), streamed.

Rows are read one at a time and written in chunks of 5,000, each chunk its own transaction,
so memory stays flat and an interrupted import can simply be run again (rows upsert on
(region_code, address_id)). A bad row is reported with its line number and skipped; rows
whose status is not `current` are skipped silently.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import connection, transaction

from registrations.models import Address
from registrations.registers.addresses import InvalidCoordinates, check_coordinates, municipality_for

COLUMNS = (
    "EPSG:31370_x", "EPSG:31370_y", "EPSG:4326_lat", "EPSG:4326_lon", "address_id", "box_number",
    "house_number", "municipality_id", "municipality_name_de", "municipality_name_fr", "municipality_name_nl",
    "postcode", "postname_fr", "postname_nl", "street_id", "streetname_de", "streetname_fr", "streetname_nl",
    "region_code", "status",
)  # fmt: skip
REGIONS = {"BE-BRU", "BE-VLG", "BE-WAL"}
CHUNK = 5_000
_FIELDS = [
    "region_code", "address_id", "street_name_nl", "street_name_fr", "street_name_de", "house_number",
    "box_number", "post_code", "municipality_nis", "municipality_name_nl", "municipality_name_fr",
    "municipality_name_de", "latitude", "longitude",
]  # fmt: skip


class AddressFileError(Exception):
    """The file cannot be imported at all (not a BeST CSV)."""


@dataclass
class AddressImportReport:
    imported: int = 0
    skipped_not_current: int = 0
    bad_rows: int = 0
    problems: list[str] = field(default_factory=list)


class _BadRowError(Exception):
    pass


def _text(row: dict[str, str], column: str, max_length: int, *, required: bool = False) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise _BadRowError(f"{column} is empty")
    if len(value) > max_length:
        raise _BadRowError(f"{column} is longer than {max_length} characters")
    return value


def _parse(row: dict[str, str]) -> tuple[Any, ...]:
    region = _text(row, "region_code", 6, required=True)
    if region not in REGIONS:
        raise _BadRowError(f"region_code must be one of {', '.join(sorted(REGIONS))}")
    try:
        address_id = int(_text(row, "address_id", 18, required=True))
        lat, lon = check_coordinates(float(row["EPSG:4326_lat"]), float(row["EPSG:4326_lon"]))
    except (ValueError, TypeError) as exc:
        raise _BadRowError(
            str(exc) if isinstance(exc, InvalidCoordinates) else "address_id or coordinates not numbers"
        ) from exc
    post_code = _text(row, "postcode", 4, required=True)
    nis = _text(row, "municipality_id", 5, required=True)
    municipality = municipality_for(post_code, nis_code=nis)
    if municipality is None:
        # Columns and reasons only, never the values: a problem line is printed and may be
        # pasted into a ticket, and a malformed file may hold anything in these columns.
        raise _BadRowError("postcode does not serve the municipality in municipality_id")
    streets = [_text(row, f"streetname_{language}", 200) for language in ("nl", "fr", "de")]
    if not any(streets):
        raise _BadRowError("no street name in any language")
    house = _text(row, "house_number", 16, required=True)
    box = _text(row, "box_number", 16)
    names = municipality.names
    return (
        region, address_id, *streets, house, box, post_code, municipality.nis_code,
        names.get("nl", ""), names.get("fr", ""), names.get("de", ""), lat, lon,
    )  # fmt: skip


def _lines(handle: IO[bytes], progress: Callable[[int], object]) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        progress(len(raw))
        try:
            yield raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:  # streamed: the batches already written stay
            raise AddressFileError(f"line {number} is not UTF-8 text (byte {exc.start})") from exc


def import_addresses(
    handle: IO[bytes], *, progress: Callable[[int], object] = lambda _: None, max_problems: int = 100
) -> AddressImportReport:
    """Stream a BeST CSV into the register. Raises AddressFileError if the header is wrong."""
    reader = csv.DictReader(_lines(handle, progress))
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise AddressFileError(f"not a BeST address CSV: missing column(s) {', '.join(missing)}")
    report = AddressImportReport()
    chunk: list[tuple[Any, ...]] = []
    for row in reader:
        if (row.get("status") or "").strip() != "current":
            report.skipped_not_current += 1
            continue
        try:
            chunk.append(_parse(row))
        except _BadRowError as exc:
            report.bad_rows += 1
            if len(report.problems) < max_problems:
                report.problems.append(f"line {reader.line_num}: {exc}")
            continue
        if len(chunk) >= CHUNK:
            report.imported += _upsert(chunk)
            chunk = []
    if chunk:
        report.imported += _upsert(chunk)
    return report


@transaction.atomic
def _upsert(rows: list[tuple[Any, ...]]) -> int:
    rows = list({(row[0], row[1]): row for row in rows}.values())  # last wins within a chunk
    if connection.vendor == "postgresql":
        _upsert_postgresql(rows)
    else:
        Address.objects.bulk_create(
            [Address(**dict(zip(_FIELDS, row, strict=True))) for row in rows],
            update_conflicts=True,
            unique_fields=["region_code", "address_id"],
            update_fields=_FIELDS[2:],
            batch_size=500,
        )
    return len(rows)


def _upsert_postgresql(rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY into a temporary table, then one INSERT ... ON CONFLICT: the fast path."""
    columns = ", ".join(_FIELDS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in _FIELDS[2:])
    with connection.cursor() as cursor:
        cursor.execute(  # the register's column types, none of its constraints
            f"CREATE TEMP TABLE IF NOT EXISTS address_load ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM registrations_address WITH NO DATA"
        )
        cursor.execute("TRUNCATE address_load")  # inside an outer transaction no commit empties it
        with cursor.cursor.copy(f"COPY address_load ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO registrations_address ({columns}) SELECT {columns} FROM address_load "  # noqa: S608
            f"ON CONFLICT (region_code, address_id) DO UPDATE SET {updates}"
        )


def text_stream(text: str) -> IO[bytes]:
    """A CSV given as text, as the importer reads it (tests, demo data)."""
    return io.BytesIO(text.encode("utf-8"))
