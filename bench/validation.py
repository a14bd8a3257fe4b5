"""Bench: asynchronous validation throughput, against a floor measured in the same run.

Operation: `registration_validate_batch` over 10,000 pending registrations in batches of 200
(what the Celery task runs): reference facts loaded set-wise, the 17 rules, status and
remarks written, one history event per registration.
Floor: the same 17 checks written by hand as one raw SQL query per rule per batch (reads
only: no status update, no history). The run also checks that both agree on every
registration's remark set.

Needs PostgreSQL:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/presence_bench \
    DJANGO_SECRET_KEY=$(openssl rand -hex 32) NISS_HASH_KEY=$(openssl rand -hex 32) \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 REST_CACHE_URL=redis://127.0.0.1:6379/11 \
    .venv/bin/python bench/validation.py [--registrations 10000] [--runs 5]
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection

from bench import report
from registrations.domain.authorisation import Caller
from registrations.domain.limits import MAX_BATCH
from registrations.models import Channel, Enterprise, Registration
from registrations.registers.reference_import import reference_import
from registrations.services import batches as core_batches
from registrations.services.demo import build_world
from registrations.services.presences import PresenceInput, registration_submit_batch
from registrations.validation.run import registration_validate_batch

BATCH = MAX_BATCH

_B = """WITH b AS (SELECT id, niss, limosa_id, enterprise_number AS ent, workplace_id AS wp,
        registration_date AS day, sector, event_type, event_at
        FROM registrations_registration WHERE id = ANY(%(ids)s)) SELECT b.id FROM b WHERE """
_BIS = "(b.niss <> '' AND substr(b.niss, 3, 2)::int >= 20)"
_FOUNDER = "EXISTS (SELECT 1 FROM registrations_enterprisefounder f WHERE f.enterprise_id = b.ent AND f.niss = b.niss)"
_HAS_FOUNDERS = "EXISTS (SELECT 1 FROM registrations_enterprisefounder f WHERE f.enterprise_id = b.ent)"
_SELF = """EXISTS (SELECT 1 FROM registrations_selfemployedperiod s WHERE s.niss = b.niss
        AND s.start <= b.day AND (s."end" IS NULL OR s."end" >= b.day))"""
_REL = """(d.niss = b.niss AND (d.employer = b.ent OR (d.worker_type = 'interim' AND d.user_company = b.ent)))"""
_RELATION = f"EXISTS (SELECT 1 FROM registrations_dimonaperiod d WHERE {_REL})"
_RELATION_NOW = f"""EXISTS (SELECT 1 FROM registrations_dimonaperiod d WHERE {_REL}
        AND d.start <= b.day AND (d."end" IS NULL OR d."end" >= b.day))"""
_NATURAL = "EXISTS (SELECT 1 FROM registrations_enterprise e WHERE e.enterprise_number = b.ent AND e.natural_person)"
_DOW = "EXISTS (SELECT 1 FROM registrations_declarationofworks w WHERE w.number = b.wp"
_LIMOSA_NISS = "EXISTS (SELECT 1 FROM registrations_limosadeclaration l WHERE l.niss = b.niss"
_COVERS = "AND {t}.{s} <= b.day AND ({t}.{e} IS NULL OR {t}.{e} >= b.day)"

RULE_SQL = {
    1: f"b.niss <> '' AND b.ent <> '' AND NOT {_BIS} AND NOT {_FOUNDER} AND NOT {_SELF} AND NOT {_RELATION}"
    f" AND NOT {_NATURAL}",
    2: f"b.niss <> '' AND {_NATURAL} AND {_HAS_FOUNDERS} AND NOT {_RELATION} AND NOT {_FOUNDER}",
    3: f"{_NATURAL} AND NOT {_HAS_FOUNDERS}",
    4: "b.ent <> '' AND NOT EXISTS (SELECT 1 FROM registrations_enterprise e WHERE e.enterprise_number = b.ent)",
    5: f"b.niss <> '' AND b.ent <> '' AND {_SELF} AND NOT {_RELATION} AND NOT {_FOUNDER}",
    6: "b.limosa_id <> '' AND NOT EXISTS (SELECT 1 FROM registrations_limosadeclaration l"
    " WHERE l.limosa_id = b.limosa_id)",
    7: "b.limosa_id <> '' AND EXISTS (SELECT 1 FROM registrations_limosadeclaration l WHERE l.limosa_id = b.limosa_id"
    ' AND NOT (l.start <= b.day AND (l."end" IS NULL OR l."end" >= b.day)))',
    8: f"{_BIS} AND NOT {_RELATION} AND NOT {_LIMOSA_NISS})",
    9: f"{_BIS} AND NOT {_RELATION} AND {_LIMOSA_NISS}) AND NOT {_LIMOSA_NISS} "
    + _COVERS.format(t="l", s="start", e='"end"')
    + ")",
    10: f"NOT {_DOW})",
    11: f"{_DOW} AND NOT (w.start_date <= b.day AND (w.end_date IS NULL OR w.end_date >= b.day)))",
    12: f"{_DOW}) AND b.ent <> '' AND NOT EXISTS (SELECT 1 FROM registrations_declarationparty p"
    " WHERE p.declaration_id = b.wp AND p.enterprise_number = b.ent)",
    13: f"{_DOW} AND (w.sector <> b.sector OR (b.sector = 1 AND w.amount <"
    " CASE WHEN w.start_date < DATE '2016-03-01' THEN 800000 ELSE 500000 END)))",
    14: """EXISTS (SELECT 1 FROM registrations_registration r WHERE r.id < b.id AND r.status <> 'cancelled'
        AND r.registration_date = b.day AND r.niss = b.niss AND r.limosa_id = b.limosa_id AND (
            (b.event_at IS NULL AND r.workplace_id = b.wp AND r.enterprise_number = b.ent)
         OR (b.event_at IS NOT NULL AND r.event_type = b.event_type
             AND date_trunc('minute', r.event_at) = date_trunc('minute', b.event_at))))""",
    15: f"b.niss <> '' AND NOT {_BIS} AND NOT EXISTS (SELECT 1 FROM registrations_person p WHERE p.niss = b.niss)",
    16: "EXISTS (SELECT 1 FROM registrations_enterprise e WHERE e.enterprise_number = b.ent"
    " AND NOT (e.active_from <= b.day AND (e.active_to IS NULL OR e.active_to >= b.day)))",
    17: f"b.niss <> '' AND b.ent <> '' AND {_RELATION} AND NOT {_RELATION_NOW}",
}


def floor_masks(ids: list[int]) -> dict[int, int]:
    masks = dict.fromkeys(ids, 0)
    with connection.cursor() as cursor:
        for number, condition in RULE_SQL.items():
            cursor.execute(_B + condition, {"ids": ids})
            for (registration_id,) in cursor.fetchall():
                masks[registration_id] |= 1 << (number - 1)
    return masks


def ensure_world() -> dict[str, list[dict[str, object]]]:
    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    world = build_world(rng, enterprises=300, persons=3000)
    if not Enterprise.objects.exists():
        reference_import(world.data)
    return {"world": world}  # type: ignore[dict-item]


def pending_registrations(world: object, count: int, rng: random.Random) -> list[int]:
    """`count` new registrations, most in order, some with faults; not yet validated."""
    core_batches._hand_off_validation = lambda ids: None  # type: ignore[assignment]  # measured separately
    employees = world.employees  # type: ignore[attr-defined]
    workplaces_of = world.workplaces_of  # type: ignore[attr-defined]
    declarations = [d["number"] for d in world.data["declarationsOfWorks"]]  # type: ignore[attr-defined]
    operator = Caller.for_operator("bench")
    ids: list[int] = []
    while len(ids) < count:
        items = []
        for _ in range(min(BATCH, count - len(ids))):
            niss, employer = rng.choice(employees)
            sites = workplaces_of.get(employer) or declarations
            workplace = rng.choice(sites if rng.random() < 0.9 else declarations)
            items.append(PresenceInput(workplace_id=workplace, niss=niss, enterprise_number=employer))
        results = registration_submit_batch(items=items, caller=operator, channel=Channel.ADMIN)
        ids += [r.registration.pk for r in results if r.registration is not None]
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/validation.py needs PostgreSQL: set DATABASE_URL")
    world = ensure_world()["world"]
    rng = random.Random(11)
    engine_times, floor_times = [], []
    for run in range(args.runs):
        ids = pending_registrations(world, args.registrations, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics for both sides
        batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        started = time.perf_counter()
        expected = {}
        for batch in batches:
            expected.update(floor_masks(batch))
        floor_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        for batch in batches:
            registration_validate_batch(registration_ids=batch)
        engine_times.append(time.perf_counter() - started)
        got = dict(Registration.objects.filter(pk__in=ids).values_list("id", "remark_mask"))
        disagree = [pk for pk in ids if got[pk] != expected[pk]]
        report.require(
            not disagree, f"engine and SQL floor disagree on {len(disagree)} registrations, e.g. {disagree[:5]}"
        )
        print(f"run {run + 1}: engine {engine_times[-1]:.2f} s, floor {floor_times[-1]:.2f} s, remarks agree")
    engine = sorted(engine_times)[len(engine_times) // 2]
    floor = sorted(floor_times)[len(floor_times) // 2]
    rate, floor_rate = args.registrations / engine, args.registrations / floor
    report.write(
        "validation",
        [
            report.result(
                f"validation, {args.registrations} pending, batches of {BATCH}",
                rate,
                "registrations/s",
                "light floor: the 17 checks as raw SQL per batch (reads only, writes nothing)",
                floor_rate,
                floor_rate / rate,
                report.TARGETS["validation vs sql"],
            )
        ],
    )


if __name__ == "__main__":
    main()
