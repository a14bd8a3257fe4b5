"""Admission checks (spec §4.1, codes 2-6) on real NISS and enterprise-number edge cases."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.models import ClientRole, Registration
from registrations.services.presences import registration_submit_batch
from tests.factories import caller_for, make_client, make_niss, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    return caller_for(make_client(ClientRole.ENTERPRISE, enterprise_number="0448181966"))


def submit_one(caller, **fields):
    [result] = registration_submit_batch(items=[presence(caller=caller, **fields)], caller=caller, channel="WS")
    return result


def error_codes(result):
    return [int(error.code) for error in result.errors]


@pytest.mark.parametrize(
    ("niss", "case"),
    [
        (make_niss("850730", 33), "born before 2000"),
        (make_niss("050101", 1, born_2000=True), "born in 2000 or later: check on 2 + digits"),
        (make_niss("852730", 33), "BIS number, month + 20"),
        (make_niss("854730", 33), "BIS number, month + 40"),
        (make_niss("850000", 12), "unknown birth month and day"),
        (make_niss("050000", 7, born_2000=True), "unknown birth date, born from 2000"),
    ],
)
def test_accepts_valid_niss_edge_cases(employer, niss, case):
    result = submit_one(employer, niss=niss)
    assert result.errors == [], case
    assert Registration.objects.get(pk=result.registration.pk).niss == niss


@pytest.mark.parametrize(
    ("niss", "case"),
    [
        (make_niss("850730", 33)[:-2] + "00", "wrong check digits"),
        (make_niss("850730", 33)[:-1], "10 digits"),
        (make_niss("850730", 33) + "1", "12 digits"),
        ("٨٥٠٧٣٠٠٣٣٢٨", "Arabic-Indic digits pass str.isdigit()"),
        ("８５０７３０００３３２８", "full-width digits"),
        ("", "empty"),
        ("8507300332X", "a letter"),
    ],
)
def test_refuses_invalid_niss_with_code_5(employer, niss, case):
    result = submit_one(employer, niss=niss)
    assert error_codes(result) == [5], case
    assert result.registration is None
    assert not Registration.objects.exists()


def test_niss_in_its_printed_form_is_normalised(employer):
    niss = make_niss("850730", 33)
    printed = f" {niss[0:2]}.{niss[2:4]}.{niss[4:6]}-{niss[6:9]}.{niss[9:11]} "
    result = submit_one(employer, niss=printed)
    assert result.errors == []
    assert result.registration.niss == niss


@pytest.mark.parametrize(
    ("company", "stored"),
    [
        (448181966, "0448181966"),  # SOAP xs:long drops the leading zero
        ("448181966", "0448181966"),
        ("0448181966", "0448181966"),
        ("0448.181.966", "0448181966"),
        ("1000000318", "1000000318"),  # the newer numbers starting with 1
    ],
)
def test_accepts_enterprise_numbers_with_or_without_leading_zero(employer, company, stored):
    result = submit_one(employer, enterprise_number=company)
    assert result.errors == []
    assert result.registration.enterprise_number == stored


@pytest.mark.parametrize(
    ("company", "code", "case"),
    [
        ("2448181966", 2, "starts with 2"),
        ("04481819660", 2, "11 digits"),
        ("44818196", 2, "8 digits"),
        ("０４４８１８１９６６", 2, "full-width digits, which python-stdnum would accept"),
        ("BE0448181966", 2, "VAT prefix"),
        (-448181966, 2, "a negative xs:long"),
        ("-0448181966", 2, "a sign is not a separator"),
        ("0448181967", 3, "mod-97 check fails"),
        ("0000000000", 2, "all zeros is no enterprise number"),
    ],
)
def test_refuses_bad_enterprise_numbers(employer, company, code, case):
    result = submit_one(employer, enterprise_number=company)
    assert error_codes(result) == [code], case
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    "workplace", ["1Y1000NF9KCQ", "1Y1000NF9KCQZZ", "1y1000nf9kcqz", "1I1000NF9KCQZ", "1O1000NF9KCQZ"]
)
def test_refuses_malformed_workplace_ids_with_code_4(employer, workplace):
    assert error_codes(submit_one(employer, workplace_id=workplace)) == [4]


def test_accepts_the_public_example_workplace_id(employer):
    assert submit_one(employer, workplace_id="1Y1000NF9KCQZ").errors == []


def test_registration_date_must_be_today_or_tomorrow_in_brussels(employer):
    today = timezone.localdate()
    assert submit_one(employer, registration_date=today + timedelta(days=1)).errors == []
    assert error_codes(submit_one(employer, registration_date=today - timedelta(days=1))) == [6]
    assert error_codes(submit_one(employer, registration_date=today + timedelta(days=2))) == [6]


def test_omitted_registration_date_means_today(employer):
    item = presence(caller=employer)
    item = type(item)(**{**item.__dict__, "registration_date": None})
    [result] = registration_submit_batch(items=[item], caller=employer, channel="WS")
    assert result.registration.registration_date == timezone.localdate()


def test_brussels_date_decides_just_after_midnight(employer, settings):
    import time_machine

    # 23:30 UTC on 31 March is already 1 April in Brussels (UTC+2 in summer time).
    with time_machine.travel("2026-03-31T23:30:00+00:00", tick=False):
        from datetime import date

        assert error_codes(submit_one(employer, registration_date=date(2026, 3, 31))) == [6]
        assert submit_one(employer, registration_date=date(2026, 4, 2)).errors == []


def test_a_limosa_registration_needs_no_niss(employer):
    result = submit_one(employer, limosa_id="12345678901234567")
    assert result.errors == []
    assert result.registration.limosa_id == "12345678901234567"
    assert result.registration.niss == ""


def test_limosa_together_with_inss_is_refused(employer):
    item = presence(caller=employer)
    item = type(item)(**{**item.__dict__, "limosa_id": "123"})
    [result] = registration_submit_batch(items=[item], caller=employer, channel="WS")
    assert error_codes(result) == [5]


def test_every_error_of_an_item_is_reported(employer):
    result = submit_one(
        employer,
        niss="123",
        enterprise_number="0448181967",
        workplace_id="bad",
        registration_date=timezone.localdate() - timedelta(days=3),
    )
    assert error_codes(result) == [3, 4, 5, 6]
