"""Each of the 17 remarks (spec §4.2): the minimal reference data that triggers it, and the
same world with that fact corrected, which clears it."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history.selectors import history_for_registration
from registrations.domain.remarks import REMARKS
from registrations.models import (
    ClientRole,
    DeclarationOfWorks,
    DeclarationParty,
    DimonaPeriod,
    Enterprise,
    EnterpriseFounder,
    LimosaDeclaration,
    Person,
    Registration,
    SelfEmployedPeriod,
    Status,
)
from registrations.services.presences import registration_submit_batch
from registrations.validation.run import registration_revalidate, registration_validate_batch
from tests.factories import caller_for, make_client, make_declaration, make_niss, make_workplace_id, presence

pytestmark = pytest.mark.django_db


class World:
    """A registration whose every reference fact is in order: no remark."""

    def __init__(self):
        self.today = timezone.localdate()
        self.caller = caller_for(make_client(ClientRole.ENTERPRISE))
        self.employer = self.caller.enterprise_number
        self.niss = make_niss("850730")
        self.long_ago = date(2020, 1, 1)
        Person.objects.create(niss=self.niss, given_name="An", family_name="Peeters")
        Enterprise.objects.create(enterprise_number=self.employer, name="Bouw NV", active_from=self.long_ago)
        self.dimona = DimonaPeriod.objects.create(
            employer=self.employer, niss=self.niss, start=self.long_ago, worker_type="employee"
        )
        self.declaration = make_declaration(builder=self.employer)
        self.limosa_id = None

    def register(self, caller=None, **fields):
        caller = caller or self.caller
        values = {"niss": self.niss, "enterprise_number": self.employer, "workplace_id": self.declaration.number}
        if self.limosa_id:
            values = {"limosa_id": self.limosa_id, "workplace_id": self.declaration.number}
        values.update(fields)
        [result] = registration_submit_batch(items=[presence(caller=caller, **values)], caller=caller, channel="WS")
        assert result.errors == []
        return result.registration

    def validate(self, registration):
        registration_validate_batch(registration_ids=[registration.pk])
        return Registration.objects.get(pk=registration.pk)


def use_bis(world):
    """A posted worker with a BIS number and a Limosa declaration, no Dimona here."""
    world.niss = make_niss("852730")
    world.dimona.delete()
    LimosaDeclaration.objects.create(limosa_id="1000000000000001", niss=world.niss, start=world.long_ago)


def use_limosa_id(world):
    world.limosa_id = "1000000000000002"
    LimosaDeclaration.objects.create(limosa_id=world.limosa_id, start=world.long_ago)


def make_natural_person(world, founder):
    Enterprise.objects.filter(pk=world.employer).update(natural_person=True)
    if founder:
        EnterpriseFounder.objects.create(enterprise_id=world.employer, niss=founder)


# remark number -> (set-up common to both cases, the trigger, its correction)
SCENARIOS = {
    1: (None, lambda w: w.dimona.delete(), None),
    2: (
        lambda w: (make_natural_person(w, make_niss("700101")), w.dimona.delete()),
        None,
        lambda w: EnterpriseFounder.objects.create(enterprise_id=w.employer, niss=w.niss),
    ),
    3: (
        lambda w: make_natural_person(w, None),
        None,
        lambda w: EnterpriseFounder.objects.create(enterprise_id=w.employer, niss=w.niss),
    ),
    4: (None, lambda w: Enterprise.objects.filter(pk=w.employer).delete(), None),
    5: (
        lambda w: (
            w.dimona.delete(),
            SelfEmployedPeriod.objects.create(niss=w.niss, start=w.long_ago),
        ),
        None,
        lambda w: EnterpriseFounder.objects.create(enterprise_id=w.employer, niss=w.niss),
    ),
    6: (use_limosa_id, lambda w: LimosaDeclaration.objects.filter(pk=w.limosa_id).delete(), None),
    7: (
        use_limosa_id,
        lambda w: LimosaDeclaration.objects.filter(pk=w.limosa_id).update(end=w.today - timedelta(days=1)),
        None,
    ),
    8: (use_bis, lambda w: LimosaDeclaration.objects.filter(niss=w.niss).delete(), None),
    9: (
        use_bis,
        lambda w: LimosaDeclaration.objects.filter(niss=w.niss).update(end=w.today - timedelta(days=1)),
        None,
    ),
    10: (None, lambda w: DeclarationOfWorks.objects.filter(pk=w.declaration.pk).delete(), None),
    11: (
        None,
        lambda w: DeclarationOfWorks.objects.filter(pk=w.declaration.pk).update(end_date=w.today - timedelta(days=1)),
        None,
    ),
    12: (
        None,
        lambda w: DeclarationParty.objects.filter(declaration=w.declaration).update(enterprise_number="0202239951"),
        None,
    ),
    13: (None, lambda w: DeclarationOfWorks.objects.filter(pk=w.declaration.pk).update(amount=499_999), None),
    15: (None, lambda w: Person.objects.filter(pk=w.niss).delete(), None),
    16: (
        None,
        lambda w: Enterprise.objects.filter(pk=w.employer).update(active_to=w.today - timedelta(days=1)),
        None,
    ),
    17: (
        None,
        lambda w: DimonaPeriod.objects.filter(pk=w.dimona.pk).update(end=w.today - timedelta(days=30)),
        None,
    ),
}


def build(number, triggered):
    world = World()
    setup, trigger, correction = SCENARIOS[number]
    if setup:
        setup(world)
    if triggered and trigger:
        trigger(world)
    if not triggered and correction:
        correction(world)
    return world


@pytest.mark.parametrize("number", sorted(SCENARIOS))
def test_the_remark_fires_on_the_minimal_reference_data_that_triggers_it(number):
    world = build(number, triggered=True)
    registration = world.validate(world.register())
    assert registration.status == Status.FAILED
    assert registration.remarks == [number]
    [_created, validated] = history_for_registration(registration_id=registration.pk)
    assert validated.event_type == "registration.validated"
    assert validated.data == {"status": "FAILED", "remarks": [number]}


@pytest.mark.parametrize("number", sorted(SCENARIOS))
def test_the_remark_clears_when_the_reference_data_is_in_order(number):
    world = build(number, triggered=False)
    registration = world.validate(world.register())
    assert registration.remarks == []
    assert registration.status == Status.VALIDATED
    assert history_for_registration(registration_id=registration.pk)[-1].data == {
        "status": "VALIDATED",
        "remarks": [],
    }


def test_remark_14_marks_the_later_of_two_identical_registrations_by_different_senders():
    world = World()
    first = world.register()
    second = world.register(caller=caller_for(make_client(ClientRole.ENTERPRISE)))
    assert world.validate(first).remarks == []
    assert world.validate(second).remarks == [14]


def test_remark_14_clears_once_the_earlier_registration_is_cancelled():
    from registrations.services.presences import CancelInput, registration_cancel_batch

    world = World()
    first = world.register()
    registration_cancel_batch(items=[CancelInput(first.pk, "PLANNING")], caller=world.caller, channel="WS")
    second = world.register(caller=caller_for(make_client(ClientRole.ENTERPRISE)))
    assert world.validate(second).remarks == []


def test_before_march_2016_the_construction_threshold_is_800000():
    world = World()
    DeclarationOfWorks.objects.filter(pk=world.declaration.pk).update(start_date=date(2015, 6, 1), amount=700_000)
    registration = world.validate(world.register())
    assert registration.remarks == [13]
    DeclarationOfWorks.objects.filter(pk=world.declaration.pk).update(amount=800_000)
    assert registration_revalidate(registration_ids=[registration.pk]) == 1
    assert Registration.objects.get(pk=registration.pk).remarks == []


def test_a_cleaning_registration_on_a_construction_declaration_is_not_subject():
    world = World()
    registration = world.register()
    Registration.objects.filter(pk=registration.pk).update(sector=4)  # as if checked in through REST
    assert world.validate(registration).remarks == [13]


def test_a_presence_takes_the_sector_of_a_declaration_that_arrives_later():
    world = World()
    registration = world.validate(world.register(workplace_id="1MEAT00000001"))
    assert (registration.sector, registration.remarks) == (1, [10])  # unknown yet: construction
    make_declaration(builder=world.employer, number="1MEAT00000001", sector=3)
    registration_revalidate(registration_ids=[registration.pk])
    registration.refresh_from_db()
    assert (registration.sector, registration.remarks, registration.status) == (3, [], Status.VALIDATED)


def test_an_interim_worker_is_covered_by_the_agencys_dimona_for_the_user_company():
    world = World()
    DimonaPeriod.objects.filter(pk=world.dimona.pk).update(
        employer="0202239951", worker_type="interim", user_company=world.employer
    )
    assert world.validate(world.register()).remarks == []


def test_remark_texts_are_the_contracts_verbatim():
    assert REMARKS[12].text == "COMPANY IS NOT KNOWN  AS BUILDER OR  SUBCONTRACTOR IN THIS DUC"
    assert REMARKS[15].text == "NISS IS NOT KNOW IN THE NATIONAL REGISTER"
    assert REMARKS[4].text == "THE COMPANY DOESN'T EXISTS"
    assert [REMARKS[n].rest_code for n in (1, 14, 17)] == ["CAW_01", "CAW_14", "CAW_17"]
    assert all(set(remark.labels) == {"nl", "fr", "de", "en"} for remark in REMARKS.values())


def test_a_batch_of_200_is_validated_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    world = World()
    caller = world.caller
    items = [presence(caller=caller, workplace_id=world.declaration.number) for _ in range(200)]
    ids = [r.registration.pk for r in registration_submit_batch(items=items, caller=caller, channel="WS")]
    # reference facts (9 look-ups) + lock/select + bulk update + history heads + history insert
    with django_assert_max_num_queries(20):
        assert registration_validate_batch(registration_ids=ids) == 200
    assert set(Registration.objects.filter(pk__in=ids).values_list("remark_mask", flat=True)) == {
        REMARKS[1].bit | REMARKS[15].bit
    }


def _declaration_reads(captured):
    table = f'"{DeclarationOfWorks._meta.db_table}"'
    return [query["sql"] for query in captured if table in query["sql"]]


def test_a_batch_reads_the_declarations_of_works_once_and_follows_their_sector():
    world = World()
    caller = world.caller
    late = make_workplace_id()  # its declaration arrives after admission, in the meat sector
    items = [presence(caller=caller, workplace_id=world.declaration.number) for _ in range(3)]
    items += [presence(caller=caller, workplace_id=late), presence(caller=caller)]  # the last: never declared
    ids = [r.registration.pk for r in registration_submit_batch(items=items, caller=caller, channel="WS")]
    make_declaration(builder=world.employer, number=late, sector=3)

    with CaptureQueriesContext(connection) as validation:
        assert registration_validate_batch(registration_ids=ids) == 5
    with CaptureQueriesContext(connection) as revalidation:
        registration_revalidate(registration_ids=ids)

    assert len(_declaration_reads(validation.captured_queries)) == 1
    assert len(_declaration_reads(revalidation.captured_queries)) == 1
    sectors = dict(Registration.objects.filter(pk__in=ids).values_list("workplace_id", "sector"))
    assert (sectors[world.declaration.number], sectors[late], sectors[items[-1].workplace_id]) == (1, 3, 1)
