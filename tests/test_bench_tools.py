"""The pure parts of `make bench` and `make chaos`: the table written into docs/performance.md,
the pass/fail rule of a chaos scenario, and the neutral values for columns a COPY leaves out."""

import pytest

from bench import run_all, stack
from chaos.run import Outcome

ROW = {
    "operation": "search p99",
    "value": 12.5,
    "unit": "ms",
    "floor": "raw SQL",
    "floor_value": 10.0,
    "ratio": 1.25,
}


def test_the_docs_table_is_replaced_between_its_markers_only(tmp_path, monkeypatch):
    doc = tmp_path / "performance.md"
    doc.write_text(f"intro\n{run_all.START}\nold table\n{run_all.END}\nreasons\n")
    monkeypatch.setattr(run_all, "DOC", doc)
    run_all.update_doc([ROW], {"cpus": 2, "python": "3.11.7"})
    text = doc.read_text()
    assert text.startswith("intro\n")
    assert text.endswith(f"{run_all.END}\nreasons\n")
    assert "old table" not in text
    assert "| search p99 | 12.5 ms | raw SQL | 10.0 ms | 1.25 |" in text


@pytest.mark.parametrize(
    ("field", "ok"),
    [("lost", False), ("duplicated", False), ("half_written", False), ("validation", False), ("retried", True)],
)
def test_a_chaos_scenario_fails_on_any_lost_duplicated_or_misvalidated_registration(field, ok):
    outcome = Outcome("fault", accepted=100)
    setattr(outcome, field, 1)
    assert outcome.ok is ok


@pytest.mark.parametrize("field", ["events_lost", "bad_signatures"])
def test_a_chaos_scenario_fails_on_a_lost_webhook_event_or_a_bad_signature(field):
    outcome = Outcome("webhook receiver down", accepted=100)
    assert outcome.ok
    setattr(outcome, field, 1)
    assert not outcome.ok


@pytest.mark.postgres
@pytest.mark.django_db
def test_copy_fills_not_null_columns_it_does_not_name_with_neutral_values():
    from django.db import connection

    given = "sector, channel, created_at"
    with connection.cursor() as cursor:
        missing = dict(stack.unfilled_columns(cursor, "registrations_registration", given))
    assert "sector" not in missing
    assert missing["niss"] == ""
    assert missing["remark_mask"] == "0"
    assert missing["submitted"] == "{}"


def test_the_search_generator_makes_identifiers_the_search_accepts():
    from bench.search import enterprise_of, niss_of, workplace_of
    from registrations.domain.identifiers import normalise_enterprise_number, normalise_niss, normalise_workplace_id

    for number in (0, 1, 17_999, 18_000, 999_999):
        assert normalise_niss(niss_of(number)) == niss_of(number)
    for number in (0, 99_999, 7_000_000):
        assert normalise_enterprise_number(enterprise_of(number)) == enterprise_of(number)
    assert normalise_workplace_id(workplace_of(199_999)) == workplace_of(199_999)
    assert len({niss_of(n) for n in range(0, 1_000_000, 997)}) == len(range(0, 1_000_000, 997))
