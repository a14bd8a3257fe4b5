"""`manage.py import_reference`: all or nothing, idempotent, problems reported by position."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

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
from tests.factories import make_niss

pytestmark = pytest.mark.django_db

NISS = make_niss("850730", 33)
FOUNDER = make_niss("700101", 5)


def reference_file(**overrides):
    data = {
        "persons": [{"niss": NISS, "givenName": "An", "familyName": "Peeters", "birthDate": "1985-07-30"}],
        "enterprises": [
            {
                "enterpriseNumber": "0448181966",
                "name": "Bouw NV",
                "activeFrom": "2001-01-01",
                "activeTo": None,
                "naturalPerson": False,
                "founders": [FOUNDER],
            }
        ],
        "selfEmployed": [{"niss": FOUNDER, "from": "2001-01-01", "to": None}],
        "dimonas": [
            {
                "employer": "0202239951",
                "niss": NISS,
                "from": "2024-01-01",
                "to": None,
                "workerType": "interim",
                "userCompany": "448181966",
            }
        ],
        "limosas": [
            {
                "limosaId": "12345678901234567",
                "niss": make_niss("852730", 33),
                "foreignEmployerVat": "FR12345678901",
                "belgianClient": "0448181966",
                "from": "2026-01-01",
                "to": "2026-12-31",
            }
        ],
        "declarationsOfWorks": [
            {
                "number": "1Y1000NF9KCQZ",
                "sector": 1,
                "amount": 1200000,
                "startDate": "2024-01-01",
                "endDate": None,
                "builder": "0448181966",
                "subcontractors": ["0202239951"],
                "address": {
                    "postCode": "1000",
                    "municipalityName": "Brussel",
                    "streetName": "Wetstraat",
                    "houseNumber": "16",
                    "boxNumber": None,
                },
                "coordinates": {"latitude": 50.846557, "longitude": 4.366179},
                "radiusMeters": 200,
            }
        ],
    }
    data.update(overrides)
    return data


def run(tmp_path, data):
    path = tmp_path / "reference.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_reference", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot():
    return {
        model.__name__: model.objects.count()
        for model in (
            Person,
            Enterprise,
            EnterpriseFounder,
            SelfEmployedPeriod,
            DimonaPeriod,
            LimosaDeclaration,
            DeclarationOfWorks,
            DeclarationParty,
        )
    }


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"municipalities": [{"name": "Li\xe8ge"}]}'.encode("latin-1"))
    with pytest.raises(CommandError, match=r"is not UTF-8 text: byte 32"):
        call_command("import_reference", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_imports_every_register_with_its_natural_keys(tmp_path):
    out, _ = run(tmp_path, reference_file())
    assert "declarationsOfWorks: 1 upserted" in out
    assert Enterprise.objects.get().founders.get().niss == FOUNDER
    dimona = DimonaPeriod.objects.get()
    assert (dimona.employer, dimona.user_company, dimona.worker_type) == (
        "0202239951",
        "0448181966",
        "interim",
    )
    declaration = DeclarationOfWorks.objects.get()
    assert (declaration.post_code, declaration.radius_meters, str(declaration.latitude)) == (
        "1000",
        200,
        "50.846557",
    )
    assert set(declaration.parties.values_list("enterprise_number", "role")) == {
        ("0448181966", "builder"),
        ("0202239951", "subcontractor"),
    }


def test_importing_the_same_file_twice_changes_nothing(tmp_path):
    run(tmp_path, reference_file())
    before = snapshot()
    run(tmp_path, reference_file())
    assert snapshot() == before


def test_an_import_updates_existing_rows_and_replaces_founders(tmp_path):
    run(tmp_path, reference_file())
    changed = reference_file()
    changed["enterprises"][0]["name"] = "Bouw & Co NV"
    changed["enterprises"][0]["founders"] = []
    changed["dimonas"][0]["to"] = "2026-06-30"
    run(tmp_path, changed)
    enterprise = Enterprise.objects.get()
    assert enterprise.name == "Bouw & Co NV"
    assert not enterprise.founders.exists()
    assert str(DimonaPeriod.objects.get().end) == "2026-06-30"


def test_bad_rows_are_reported_with_their_position_and_nothing_is_imported(tmp_path):
    data = reference_file()
    data["persons"].append({"niss": "85073003300", "givenName": "B", "familyName": "C"})
    data["dimonas"][0]["workerType"] = "boss"
    data["declarationsOfWorks"][0]["coordinates"]["latitude"] = 91
    data["enterprises"][0]["founders"].append("123")
    with pytest.raises(CommandError, match="4 problem"):
        run(tmp_path, data)
    assert snapshot() == dict.fromkeys(snapshot(), 0)


def test_the_problems_name_row_and_field(tmp_path):
    data = reference_file()
    data["persons"].append({"niss": "85073003300", "givenName": "B", "familyName": "C"})
    data["declarationsOfWorks"][0]["coordinates"]["latitude"] = 91
    data["limosas"][0]["extra"] = 1
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_reference", str(path), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert "persons[1].niss: not a valid NISS or BIS number" in lines
    assert "declarationsOfWorks[0].coordinates.latitude: between -90 and 90 expected" in lines
    assert "limosas[0]: unknown key(s) extra" in lines
    assert "85073003300" not in err.getvalue()  # problems never repeat a submitted NISS


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ('{"persons": [', "is not JSON"),
        ("[]", "one JSON object"),
        ({"people": []}, "people: unknown section"),
        ({"persons": [{"niss": NISS, "givenName": "A", "familyName": "B"}] * 2}, "same key as persons[0]"),
        (
            {"dimonas": [{"employer": "0448181966", "niss": NISS, "from": "2026-02-29", "workerType": "employee"}]},
            "dimonas[0].from: not a date",
        ),
        (
            {"selfEmployed": [{"niss": NISS, "from": "2026-02-01", "to": "2026-01-01"}]},
            "selfEmployed[0].to: before from",
        ),
        (
            {"declarationsOfWorks": [{**reference_file()["declarationsOfWorks"][0], "amount": "1e20"}]},
            "declarationsOfWorks[0].amount: an amount in euro",
        ),
        (
            {"declarationsOfWorks": [{**reference_file()["declarationsOfWorks"][0], "amount": 1000.005}]},
            "at most 2 decimals",
        ),
        (
            {"declarationsOfWorks": [{**reference_file()["declarationsOfWorks"][0], "sector": 1.0}]},
            "declarationsOfWorks[0].sector",
        ),
    ],
)
def test_malformed_files_are_refused_with_a_clear_message(tmp_path, data, problem):
    path = tmp_path / "bad.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_reference", str(path), stdout=io.StringIO(), stderr=err)
    assert problem in str(refused.value) + err.getvalue()
    assert not Person.objects.exists()


def test_changing_the_builder_in_the_admin_moves_the_builders_visibility(tmp_path, admin_client):
    run(tmp_path, reference_file())
    response = admin_client.post(
        "/admin/registrations/declarationofworks/1Y1000NF9KCQZ/change/",
        {
            "number": "1Y1000NF9KCQZ",
            "sector": 1,
            "amount": "1200000",
            "start_date": "2024-01-01",
            "builder": "0202239951",
            "radius_meters": 200,
            "parties-TOTAL_FORMS": 0,
            "parties-INITIAL_FORMS": 0,
            "parties-MIN_NUM_FORMS": 0,
            "parties-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302
    builders = DeclarationParty.objects.filter(declaration_id="1Y1000NF9KCQZ", role="builder")
    assert list(builders.values_list("enterprise_number", flat=True)) == ["0202239951"]


@pytest.mark.parametrize(
    ("post_code", "given", "stored"),
    [("1000", "bruxelles", "Bruxelles"), ("4000", "Liege", "Liège"), ("1000", "", "Brussel")],
)
def test_declaration_addresses_are_normalised_to_the_official_municipality_name(tmp_path, post_code, given, stored):
    data = reference_file()
    data["declarationsOfWorks"][0]["address"].update(postCode=post_code, municipalityName=given)
    run(tmp_path, data)
    assert DeclarationOfWorks.objects.get().municipality_name == stored


def test_a_declaration_address_whose_postal_code_does_not_serve_the_municipality_is_a_problem(tmp_path):
    data = reference_file()
    data["declarationsOfWorks"][0]["address"].update(postCode="1000", municipalityName="Gent")
    with pytest.raises(CommandError):
        run(tmp_path, data)
    assert not DeclarationOfWorks.objects.exists()


def problem_lines(tmp_path, data) -> str:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_reference", str(path), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.mark.parametrize(
    ("post_code", "given", "problem"),
    [
        ("1000", "Gentbrugge Noord", "the postal code does not serve a municipality of that name"),
        ("9999", "", "the postal code does not serve a municipality"),
    ],
)
def test_an_address_problem_names_its_position_not_the_submitted_values(tmp_path, post_code, given, problem):
    data = reference_file()
    data["declarationsOfWorks"][0]["address"].update(postCode=post_code, municipalityName=given)
    lines = problem_lines(tmp_path, data)
    assert f"declarationsOfWorks[0].address: {problem}" in lines.splitlines()
    assert post_code not in lines
    assert not given or given not in lines


def test_a_key_that_is_not_a_field_name_is_counted_not_repeated(tmp_path):
    data = reference_file()
    data["limosas"][0]["85073003300"] = "pasted by mistake"
    data["limosas"][0]["extra"] = 1
    data["Jan Peeters\x1b[31m"] = []
    lines = problem_lines(tmp_path, data)
    assert "limosas[0]: unknown key(s) extra, 1 not shown (not a field name)" in lines.splitlines()
    assert lines.splitlines()[0].startswith("1 not shown (not a field name): unknown section (expected persons")
    assert "85073003300" not in lines
    assert "Jan Peeters" not in lines
    assert "\x1b" not in lines
