"""The honesty of `make bench`'s figures: each row names its floor, its target and whether it
is met; a bench whose floor or measured call raises fails, with a FAILED row and a non-zero
exit; the durable floor writes what the service writes (rows, hash-chained created events,
outbox entries) under the same constraints; the address import has a floor."""

import json
import random
import sys
from datetime import UTC, datetime

import pytest
from django.db import connection

from bench import report, run_all

FIELDS = {"operation", "value", "unit", "floor", "floor_value", "ratio", "target", "target_ratio", "met", "failed"}

BENCH_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from bench import report


def floor():
    {floor}


report.write("tiny", [report.result("tiny call", 2.0, "ms", "tiny floor", floor(), 2.0)])
"""


def test_a_row_carries_its_figures_its_target_and_whether_it_is_met():
    target = report.TARGETS["soap in-process vs durable"]
    within = report.result("SOAP in-process", 60.0, "ms", "durable floor", 20.0, 3.0, target)
    beyond = report.result("SOAP in-process", 61.0, "ms", "durable floor", 20.0, 3.05, target)
    assert set(within) == FIELDS
    assert (within["value"], within["floor_value"], within["ratio"]) == (60.0, 20.0, 3.0)
    assert (within["target"], within["target_ratio"], within["met"]) == ("ratio ≤ 3", 3, True)
    assert beyond["met"] is False
    assert within["failed"] is None


def test_a_rate_target_reads_as_a_share_of_the_floors_rate():
    row = report.result(
        "check-in", 100.0, "requests/s", "view", 600.0, 6.0, report.TARGETS["check-in load vs floor view"]
    )
    assert row["target"].startswith("rate ≥ 0.5 of the floor's")
    assert row["met"] is False
    assert report.result(
        "check-in", 400.0, "requests/s", "view", 600.0, 1.5, report.TARGETS["check-in load vs floor view"]
    )["met"]


def test_a_row_without_a_target_shows_a_dash_in_the_met_column():
    row = report.result("search p50", 1.4, "ms", "replay of the selector's SQL", 0.6, 2.33)
    assert (row["target"], row["met"]) == (None, None)
    assert report.met_text(row) == "-"


def test_a_rate_below_the_searchs_lowest_step_is_a_result_whose_target_is_not_met(capsys):
    target = report.TARGETS["check-in load vs floor view"]
    row = report.below_range("REST check-in under load", "requests/s", 25.0, "one-INSERT view", (0.0, 600.0), target)
    assert set(row) == FIELDS | {"note"}
    assert (row["value"], row["ratio"], row["met"], row["failed"]) == (0.0, None, False, None)
    table = run_all.markdown([row], "now", {"cpus": 2, "python": "3.11.7"})
    assert "| REST check-in under load | below 25 requests/s, the lowest rate tried | one-INSERT view |" in table
    report.print_table([row])
    assert "below 25 requests/s" in capsys.readouterr().out


def test_a_floor_below_the_searchs_lowest_step_leaves_the_row_unjudged():
    target = report.TARGETS["check-in load vs floor view"]
    row = report.below_range("REST check-in under load", "requests/s", 25.0, "one-INSERT view", (0.0, 0.0), target)
    assert (row["ratio"], row["met"]) == (None, None)
    assert row["note"].startswith("not measured")


@pytest.mark.parametrize("floor_value", [0.0, -1.0, float("inf")])
def test_a_figure_no_measurement_can_give_fails_the_bench(floor_value):
    with pytest.raises(report.BenchmarkError):
        report.result("registerInBulk", 2.0, "ms", "a floor that measured nothing", floor_value, 1.0)


def test_a_thread_that_raises_fails_the_concurrent_measurement():
    def action(thread: int, item: bytes) -> None:
        if thread == 2 and item == b"second":
            raise RuntimeError("duplicate key value violates unique constraint")

    with pytest.raises(report.BenchmarkError, match="1 of 4 threads failed"):
        report.concurrent([[b"first", b"second"]] * 4, action)


def write_bench(directory, name, floor):
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.py").write_text(BENCH_SCRIPT.format(root=str(run_all.ROOT), floor=floor))


def test_a_bench_whose_floor_raises_gets_a_failed_row_and_the_others_still_count(tmp_path):
    scripts, results = tmp_path / "scripts", tmp_path / "results"
    results.mkdir()
    write_bench(scripts, "fine", "return 1.0")
    write_bench(scripts, "broken", 'raise RuntimeError("the floor broke")')
    runner = run_all.Runner(results, {"fine": [], "broken": []}, {"fine", "broken"}, scripts=scripts)
    runner.run("broken", {"PATH": "/usr/bin:/bin"})
    runner.run("fine", {"PATH": "/usr/bin:/bin"})
    assert runner.failed == ["bench/broken.py"]
    assert [row["operation"] for row in runner.rows] == ["bench/broken.py", "tiny call"]
    assert runner.rows[0]["failed"] == "exit 1"
    assert runner.rows[1]["ratio"] == 2.0
    table = run_all.markdown(runner.rows, "now", {"cpus": 2, "python": "3.11.7"})
    assert "| bench/broken.py | FAILED: exit 1 | | | | | |" in table
    assert "| tiny call | 2.0 ms | tiny floor | 1.0 ms | 2.0 | - | - |" in table


def test_make_bench_exits_non_zero_and_writes_the_failed_row_when_a_floor_raises(tmp_path, monkeypatch):
    write_bench(tmp_path / "bench", "broken", 'raise RuntimeError("the floor broke")')
    monkeypatch.setattr(run_all, "ROOT", tmp_path)
    monkeypatch.setattr(run_all, "SHORT", {"broken": []})
    monkeypatch.setattr(run_all, "in_process", lambda runner, short: runner.run("broken", {"PATH": "/usr/bin:/bin"}))
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path / "unused"))
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--short"])
    with pytest.raises(SystemExit) as exit_status:
        run_all.main()
    assert exit_status.value.code == "failed: bench/broken.py"
    (table,) = (tmp_path / "var" / "bench-results").glob("bench-*.json")
    assert json.loads(table.read_text())["results"][0]["failed"] == "exit 1"


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_address_import_has_a_floor_that_copies_the_same_rows(tmp_path):
    from bench import addresses

    path = tmp_path / "addresses.csv"
    addresses.generate(path, 30, random.Random(1))  # noqa: S311  # test data, not secrets
    rows, seconds = addresses.import_floor(path)
    assert rows == 30
    assert seconds > 0


def database_url() -> str:
    settings = connection.settings_dict
    host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{settings.get('USER') or ''}{password}@{host}:{port}/{settings['NAME']}"


@pytest.fixture
def durable_tables():
    from bench import floors

    url = database_url()
    floors.create_durable_tables(url, floors.SOAP_COLUMNS)
    yield url
    floors.drop_durable_tables(url)


def soap_envelope(count: int, company: str) -> bytes:
    from tests.factories import make_niss, make_workplace_id
    from tests.soap_gateway.conftest import envelope, register_item, register_request

    items = [register_item(niss=make_niss(), company=company, workplace=make_workplace_id()) for _ in range(count)]
    return envelope(register_request(items))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_durable_floor_writes_rows_their_hashed_created_events_and_outbox_entries(durable_tables):
    from bench import floors
    from history.services import event_hash
    from tests.factories import make_client

    client = make_client()
    floor = floors.DurableFloor(durable_tables)
    sender = floors.Sender(client.pk, client.enterprise_number)
    data = soap_envelope(3, client.enterprise_number)
    for _ in range(2):  # the same envelope twice: each call writes fresh resend keys
        floors.soap_durable_seconds(floor, data, sender, f"client:{client.pk}")
    floor.close()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id, r.enterprise_number, e.seq, e.event_type, e.occurred_at, e.actor, e.channel, e.data,"
            " e.prev_hash, e.hash, o.id FROM bench_durable_registration r"
            " JOIN bench_durable_event e ON e.registration_id = r.id"
            " LEFT JOIN bench_durable_outbox o ON o.event_id = e.id"
        )
        written = cursor.fetchall()
    assert len(written) == 6
    for registration_id, company, seq, kind, at, actor, channel, data_json, prev, digest, outbox_id in written:
        assert company == client.enterprise_number
        data = data_json if isinstance(data_json, dict) else json.loads(data_json)
        assert digest == event_hash(
            registration_id=registration_id, seq=seq, event_type=kind, occurred_at=at, actor=actor,
            channel=channel, data=data, prev_hash=prev,
        )  # fmt: skip
        assert outbox_id is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_durable_floor_keeps_the_services_resend_constraint_and_its_error_propagates(durable_tables):
    import psycopg

    from bench import floors
    from tests.factories import make_client

    client = make_client()
    floor = floors.DurableFloor(durable_tables)
    rows = floors.soap_rows(
        soap_envelope(2, client.enterprise_number), floors.Sender(client.pk, "0"), datetime.now(UTC)
    )
    floor.write(rows, actor="client:x", channel="WS")
    with pytest.raises(psycopg.errors.UniqueViolation):
        floor.write(rows, actor="client:x", channel="WS")  # the same resend keys again
    floor.close()
