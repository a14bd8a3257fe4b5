"""The address register (spec §7): import of the BeST CSV and nearest-address look-ups,
on PostgreSQL (cube + earthdistance) and SQLite (bounding box)."""

import io
import math

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from registrations.models import Address, Registration
from registrations.registers.address_import import COLUMNS, import_addresses, text_stream
from registrations.registers.addresses import InvalidCoordinates, addresses_near, distance_m

pytestmark = pytest.mark.django_db

WETSTRAAT = (50.846557, 4.366179)  # Brussels, Rue de la Loi 16


def best_row(
    address_id,
    lat,
    lon,
    *,
    house="1",
    post="1000",
    nis="21004",
    street="Wetstraat",
    status="current",
    region="BE-BRU",
    box="",
):
    values = dict.fromkeys(COLUMNS, "")
    values.update(
        {
            "EPSG:4326_lat": str(lat),
            "EPSG:4326_lon": str(lon),
            "address_id": str(address_id),
            "box_number": box,
            "house_number": house,
            "municipality_id": nis,
            "postcode": post,
            "streetname_nl": street,
            "streetname_fr": "Rue de la Loi" if street == "Wetstraat" else "",
            "region_code": region,
            "status": status,
        }
    )
    return ",".join(values[column] for column in COLUMNS)


def best_csv(*rows):
    return "\n".join([",".join(COLUMNS), *rows]) + "\n"


def metres_north(metres):
    return WETSTRAAT[0] + math.degrees(metres / 6_378_168.0)


@pytest.fixture
def street():
    """Addresses 10, 50, 100, 140, 160 and 400 m north of the Wetstraat point."""
    rows = [
        best_row(index, round(metres_north(m), 6), WETSTRAAT[1], house=str(m))
        for index, m in enumerate([10, 50, 100, 140, 160, 400], start=1)
    ]
    import_addresses(text_stream(best_csv(*rows)))


def test_nearest_addresses_come_first_with_their_distance(street):
    found = addresses_near(*WETSTRAAT)
    assert [n.address.house_number for n in found] == ["10", "50", "100", "140"]  # within 150 m
    assert [round(n.distance_m) for n in found] == [10, 50, 100, 140]
    first = found[0].address
    assert (first.post_code, first.municipality_nis, first.municipality_name_fr, first.street_name) == (
        "1000",
        "21004",
        "Bruxelles",
        "Rue de la Loi",
    )


def test_radius_and_limit_bound_the_answer(street):
    assert [n.address.house_number for n in addresses_near(*WETSTRAAT, radius_m=60)] == ["10", "50"]
    assert len(addresses_near(*WETSTRAAT, radius_m=1000)) == 6
    assert [n.address.house_number for n in addresses_near(*WETSTRAAT, radius_m=1000, limit=2)] == ["10", "50"]


def test_far_from_any_address_the_answer_is_empty(street):
    assert addresses_near(50.0, 5.5) == []  # the Ardennes


@pytest.mark.parametrize(
    ("latitude", "longitude", "field", "message"),
    [
        (91, 4.3, "latitude", "between -90 and 90"),
        (50.8, -181, "longitude", "between -180 and 180"),
        (float("nan"), 4.3, "latitude", "finite"),
        (50.8, float("inf"), "longitude", "finite"),
        (1e309, 4.3, "latitude", "finite"),
        (4.366179, 50.846557, "coordinates", "swapped"),
        (0, 0, "coordinates", "without a fix"),
        ("50.8", 4.3, "latitude", "a number"),
        (True, 4.3, "latitude", "a number"),
    ],
)
def test_bad_coordinates_are_refused_with_the_field_named(latitude, longitude, field, message):
    with pytest.raises(InvalidCoordinates) as refused:
        addresses_near(latitude, longitude)
    assert refused.value.field == field
    assert message in refused.value.message


@pytest.mark.parametrize(("radius", "limit"), [(0, 10), (5001, 10), (150, 0), (150, 51), (150.5, 10)])
def test_radius_and_limit_have_bounds(radius, limit):
    with pytest.raises(InvalidCoordinates):
        addresses_near(*WETSTRAAT, radius_m=radius, limit=limit)


def test_fifteen_decimals_are_stored_as_six():
    import_addresses(text_stream(best_csv(best_row(1, 50.846557123456789, 4.366179987654321))))
    address = Address.objects.get()
    assert (address.latitude, address.longitude) == (50.846557, 4.36618)


def test_an_import_reports_bad_rows_by_line_and_keeps_the_good_ones():
    report = import_addresses(
        text_stream(
            best_csv(
                best_row(1, *WETSTRAAT),  # line 2: good
                best_row(2, 91, 4.36),  # line 3: latitude out of range
                best_row(3, *WETSTRAAT, post="9999"),  # line 4: unknown postcode
                best_row(4, *WETSTRAAT, nis="44021"),  # line 5: Gent is not in 1000
                best_row(5, *WETSTRAAT, house=""),  # line 6: no house number
                best_row(6, *WETSTRAAT, status="retired"),  # line 7: skipped, not an error
                best_row(7, *WETSTRAAT, region="BE-XXX"),  # line 8: unknown region
                best_row(8, 51.0543, 3.7174, post="9000", nis="44021", street="Veldstraat", region="BE-VLG"),  # good
            )
        )
    )
    assert (report.imported, report.bad_rows, report.skipped_not_current) == (2, 5, 1)
    assert report.problems == [
        "line 3: latitude: must be between -90 and 90",
        "line 4: postcode does not serve the municipality in municipality_id",
        "line 5: postcode does not serve the municipality in municipality_id",
        "line 6: house_number is empty",
        "line 8: region_code must be one of BE-BRU, BE-VLG, BE-WAL",
    ]
    assert set(Address.objects.values_list("post_code", flat=True)) == {"1000", "9000"}
    assert not any(value in problem for problem in report.problems for value in ("9999", "21004", "44021"))


def test_importing_again_upserts_instead_of_duplicating():
    import_addresses(text_stream(best_csv(best_row(1, *WETSTRAAT, house="16"))))
    import_addresses(text_stream(best_csv(best_row(1, *WETSTRAAT, house="16A"))))
    assert list(Address.objects.values_list("house_number", flat=True)) == ["16A"]


def test_the_command_streams_a_file_and_refuses_one_that_is_not_best(tmp_path):
    good = tmp_path / "addresses.csv"
    good.write_text(best_csv(best_row(1, *WETSTRAAT), best_row(2, 95, 4.3)))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_addresses", str(good), stdout=out, stderr=err)
    assert "1 addresses upserted, 1 bad rows skipped" in out.getvalue()
    assert "line 3: latitude" in err.getvalue()
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("street,number\nWetstraat,16\n")
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_addresses", str(wrong), stdout=io.StringIO())


def test_the_command_names_the_line_of_a_file_that_is_not_utf8_and_keeps_the_rows_before(tmp_path):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(best_csv(best_row(1, *WETSTRAAT)).encode() + "Li\xe8ge\n".encode("latin-1"))
    with pytest.raises(CommandError, match=r"line 3 is not UTF-8 text"):
        call_command("import_addresses", str(latin1), stdout=io.StringIO())


def test_the_sqlite_and_postgresql_distances_agree_with_the_haversine(street):
    for nearby in addresses_near(*WETSTRAAT, radius_m=500):
        a = nearby.address
        assert nearby.distance_m == pytest.approx(distance_m(*WETSTRAAT, a.latitude, a.longitude), abs=0.2)


@pytest.mark.postgres
def test_postgresql_answers_from_the_gist_index(street):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: make the planner show its choice
        cursor.execute(
            "EXPLAIN SELECT id FROM registrations_address "
            "WHERE earth_box(ll_to_earth(50.8, 4.3), 150) @> ll_to_earth(latitude, longitude)"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "address_earth" in plan


@pytest.mark.embedded
def test_sqlite_prefilters_on_the_latitude_longitude_index(street):
    query = Address.objects.filter(latitude__range=(50.8, 50.9), longitude__range=(4.3, 4.4)).values_list("id")
    assert "address_lat_lon" in query.explain()


def test_a_cleaning_event_farther_than_the_declared_radius_gets_remark_18():
    from django.utils import timezone

    from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
    from registrations.validation.run import registration_validate_batch
    from tests.factories import caller_for, make_client, make_declaration, make_niss

    cleaner = caller_for(make_client())
    declaration = make_declaration(
        builder=cleaner.enterprise_number, sector=4, latitude=WETSTRAAT[0], longitude=WETSTRAAT[1], radius_meters=150
    )

    def check_in(metres_away):
        item = CleaningInput(
            event_type="IN",
            event_at=timezone.now(),
            niss=make_niss(),
            workplace_id=declaration.number,
            enterprise_number=cleaner.enterprise_number,
            latitude=metres_north(metres_away),
            longitude=WETSTRAAT[1],
        )
        [result] = registration_submit_cleaning_batch(items=[item], caller=cleaner)
        assert result.errors == []
        registration_validate_batch(registration_ids=[result.registration.pk])
        result.registration.refresh_from_db()
        return result.registration

    far = check_in(400)
    near = check_in(100)
    assert 18 in far.remarks
    assert 18 not in near.remarks
    assert far.status != "registered"  # a remark, not a refusal: the event is stored


def test_a_cleaning_event_at_an_address_is_normalised_against_the_register():
    from django.utils import timezone

    from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
    from tests.factories import caller_for, make_client, make_declaration, make_niss

    import_addresses(text_stream(best_csv(best_row(1, *WETSTRAAT, house="16"))))
    cleaner = caller_for(make_client())
    declaration = make_declaration(builder=cleaner.enterprise_number, sector=4)

    def check_in(address):
        item = CleaningInput(
            event_type="IN",
            event_at=timezone.now(),
            niss=make_niss(),
            workplace_id=declaration.number,
            enterprise_number=cleaner.enterprise_number,
            address=address,
        )
        [result] = registration_submit_cleaning_batch(items=[item], caller=cleaner)
        return result

    known = check_in(
        {"postCode": "1000", "municipalityName": "bruxelles", "streetName": "rue de la loi", "houseNumber": "16"}
    )
    stored = Registration.objects.get(pk=known.registration.pk)
    assert stored.place_address["address"] == {
        "postCode": "1000",
        "municipalityName": "Bruxelles",
        "streetName": "Rue de la Loi",
        "houseNumber": "16",
        "boxNumber": None,
    }
    assert (float(stored.latitude), float(stored.longitude)) == WETSTRAAT  # the register's position

    unknown_street = check_in(
        {"postCode": "1000", "municipalityName": "Brussel", "streetName": "Nergensstraat", "houseNumber": "1"}
    )
    assert unknown_street.registration.place_address["source"] == "submitted"
    assert unknown_street.registration.latitude is None

    wrong = check_in({"postCode": "1000", "municipalityName": "Gent", "streetName": "Veldstraat", "houseNumber": "1"})
    assert [int(error.code) for error in wrong.errors] == [18]
    assert wrong.errors[0].description == (
        "placeOfWork.address: the postal code does not serve a municipality of that name"
    )
    assert Registration.objects.count() == 2
