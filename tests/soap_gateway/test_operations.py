"""The four operations through zeep built from the OFFICIAL WSDL, signed with WS-Security;
every response body is checked against the official XSD by the transport."""

from datetime import timedelta

import pytest
import zeep
from django.utils import timezone

from registrations.domain.authorisation import Caller
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Channel
from registrations.models import Registration
from registrations.selectors.clients import caller_for_client
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.corrections import CorrectionInput, registration_correct_cleaning
from registrations.services.presences import CancelInput, registration_cancel_batch, registration_submit_batch
from registrations.validation.run import registration_validate_batch
from soap_gateway import types as t
from soap_gateway.services import presence_input, presence_registration
from tests.factories import make_declaration, make_enterprise_number, make_niss, make_workplace_id
from tests.soap_gateway.conftest import read_fault

pytestmark = pytest.mark.django_db


def test_register_returns_the_stored_registration_and_echoes_the_item(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    niss, workplace = make_niss(), make_workplace_id()
    answer = service.registerPresences(
        PresenceRegistrationRequest=[
            {"INSS": niss, "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": workplace}
        ]
    )
    (item,) = answer
    assert item.PresenceRegistrationError is None
    registration = item.PresenceRegistration
    assert registration.LastValidation.Status == "SUCCESSFULLY REGISTERED"
    submitted = registration.PresenceRegistrationSubmitted
    assert (submitted.INSS, submitted.WorkPlaceId, submitted.RegistrationDate) == (niss, workplace, None)
    assert registration.Channel == "WS"
    stored = Registration.objects.get(pk=registration.PresenceRegistrationId)
    assert stored.niss == niss
    assert stored.sender_id == client_a.id


def test_register_accepts_the_limosa_branch_and_echoes_it(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    tomorrow = timezone.localdate() + timedelta(days=1)
    (item,) = service.registerPresences(
        PresenceRegistrationRequest=[
            {
                "RegistrationDate": tomorrow,
                "LimosaId": "12345678901234567",
                "WorkPlaceId": make_workplace_id(),
                "ClientPresenceRegistrationReference": "planning-42",
            }
        ]
    )
    submitted = item.PresenceRegistration.PresenceRegistrationSubmitted
    assert (submitted.LimosaId, submitted.INSS, submitted.CompanyID) == ("12345678901234567", None, None)
    assert submitted.RegistrationDate == tomorrow
    assert submitted.ClientPresenceRegistrationReference == "planning-42"
    assert item.PresenceRegistration.INSS is None
    assert Registration.objects.get().limosa_id == "12345678901234567"


def test_a_bad_item_gets_its_errors_in_place_and_the_others_are_registered(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    company = int(client_a.enterprise_number)
    good = make_niss()
    bad_check = good[:-2] + f"{(int(good[-2:]) + 1) % 100:02d}"
    too_far = timezone.localdate() + timedelta(days=3)
    answer = service.registerPresences(
        PresenceRegistrationRequest=[
            {"INSS": good, "CompanyID": company, "WorkPlaceId": make_workplace_id()},
            {"INSS": bad_check, "CompanyID": company, "WorkPlaceId": make_workplace_id()},
            {
                "RegistrationDate": too_far,
                "INSS": make_niss(),
                "CompanyID": company,
                "WorkPlaceId": make_workplace_id(),
            },
        ]
    )
    assert answer[0].PresenceRegistration is not None
    first_error, second_error = answer[1].PresenceRegistrationError, answer[2].PresenceRegistrationError
    assert [e.ErrorCode for e in first_error.ErrorList.Error] == ["5"]
    echoed = first_error.PresenceRegistrationSubmitted
    assert (echoed.INSS, echoed.CompanyID) == (bad_check, company)
    assert [e.ErrorCode for e in second_error.ErrorList.Error] == ["6"]
    assert second_error.PresenceRegistrationSubmitted.RegistrationDate == too_far
    assert Registration.objects.count() == 1


def test_resending_the_same_presence_answers_the_stored_registration(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    item = {"INSS": make_niss(), "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": make_workplace_id()}
    (first,) = service.registerPresences(PresenceRegistrationRequest=[item])
    (again,) = service.registerPresences(PresenceRegistrationRequest=[item])
    assert again.PresenceRegistration.PresenceRegistrationId == first.PresenceRegistration.PresenceRegistrationId
    assert Registration.objects.count() == 1


def test_a_resend_echoes_what_the_stored_registration_was_sent_with(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    tomorrow = timezone.localdate() + timedelta(days=1)
    item = {
        "RegistrationDate": tomorrow,
        "INSS": make_niss(),
        "CompanyID": int(client_a.enterprise_number),
        "WorkPlaceId": make_workplace_id(),
    }
    (first,) = service.registerPresences(
        PresenceRegistrationRequest=[{**item, "ClientPresenceRegistrationReference": "first"}]
    )
    (again,) = service.registerPresences(
        PresenceRegistrationRequest=[{**item, "ClientPresenceRegistrationReference": "second"}]
    )
    registration_id = first.PresenceRegistration.PresenceRegistrationId
    found = service.getPresenceRegistration(GetPresenceRegistrationRequest={"PresenceRegistrationId": registration_id})
    for answer in (
        first.PresenceRegistration,
        again.PresenceRegistration,  # the stored registration answers a resend (docs/adr/0003)
        found.GetPresenceRegistrationType.PresenceRegistrationType,
    ):
        submitted = answer.PresenceRegistrationSubmitted
        assert (submitted.RegistrationDate, submitted.ClientPresenceRegistrationReference) == (tomorrow, "first")


def test_the_answer_to_a_new_registration_echoes_the_parsed_request_item_itself(client_a):
    caller = caller_for_client(client_a)
    item = t.PresenceRegistrationSubmitType(
        RegistrationDate=timezone.localdate(),
        INSS=make_niss(),
        CompanyID=int(client_a.enterprise_number),
        WorkPlaceId=make_workplace_id(),
    )
    [result] = registration_submit_batch(items=[presence_input(item)], caller=caller, channel=Channel.WS)
    answer = presence_registration(result.registration, created_from=item)
    assert answer.PresenceRegistrationSubmitted is item  # no date -> string -> date round trip


def _register(service, client, count=1, **extra):
    answer = service.registerPresences(
        PresenceRegistrationRequest=[
            {
                "INSS": make_niss(),
                "CompanyID": int(client.enterprise_number),
                "WorkPlaceId": make_workplace_id(),
                **extra,
            }
            for _ in range(count)
        ]
    )
    return [item.PresenceRegistration.PresenceRegistrationId for item in answer]


def test_cancel_answers_the_cancelled_registration_or_the_request_with_its_error(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    first, second = _register(service, client_a, 2)
    answer = service.cancelPresences(
        CancelPresenceRequest=[
            {"PresenceRegistrationId": first, "CancellationReason": "HOLIDAY"},
            {"PresenceRegistrationId": second, "CancellationReason": "BORED"},
            {"PresenceRegistrationId": 999_999_999, "CancellationReason": "DISEASE"},
            {"PresenceRegistrationId": first, "CancellationReason": "PLANNING"},
        ]
    )
    assert answer[0].PresenceRegistration.LastValidation.Status == "SUCCESSFULLY CANCELLED"
    assert answer[0].PresenceRegistration.LastValidation.ValidationDate is not None
    codes = [[e.ErrorCode for e in item.PresenceRegistrationError.ErrorList.Error] for item in answer[1:]]
    assert codes == [["11"], ["7"], ["8"]]
    echoed = answer[1].PresenceRegistrationError.CancelPresenceRequest
    assert (echoed.PresenceRegistrationId, echoed.CancellationReason) == (second, "BORED")
    assert Registration.objects.get(pk=second).status == "registered"


def _period(days_before=0, days_after=1):
    today = timezone.localdate()
    return {
        "RegistrationPeriod": [
            {
                "RegistrationPeriodStartDate": today - timedelta(days=days_before),
                "RegistrationPeriodEndDate": today + timedelta(days=days_after),
            }
        ]
    }


def test_search_echoes_the_request_and_pages_with_the_total_count(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    ids = _register(service, client_a, 5)
    request = {
        "SearchPresenceRegistrationCriteria": {
            "CompanyID": int(client_a.enterprise_number),
            "StatusList": {"Status": ["SUCCESSFULLY REGISTERED"]},
            "RegistrationPeriodList": _period(),
        },
        "PaginationProperties": {"FirstRow": 1, "FetchSize": 2},
        "SortingProperties": {"SortDirection": "DESCENDING", "SortCriteria": "ID"},
    }
    answer = service.searchPresences(SearchPresenceRequest=request)
    listing = answer.PresenceRegistrationList
    assert listing.PresenceRegistrationResultCount == 5
    assert [r.PresenceRegistrationId for r in listing.PresenceRegistration] == sorted(ids, reverse=True)[1:3]
    assert answer.SearchPresencesRequest.PaginationProperties.FetchSize == 2
    assert answer.SearchPresencesRequest.SearchPresenceRegistrationCriteria.StatusList.Status == [
        "SUCCESSFULLY REGISTERED"
    ]
    assert answer.PresenceRegistrationError is None


def test_search_defaults_to_fifty_by_ascending_id(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    ids = _register(service, client_a, 3)
    answer = service.searchPresences(
        SearchPresenceRequest={"SearchPresenceRegistrationCriteria": {"RegistrationPeriodList": _period()}}
    )
    assert [r.PresenceRegistrationId for r in answer.PresenceRegistrationList.PresenceRegistration] == ids
    assert answer.PresenceRegistrationList.PresenceRegistrationResultCount == 3


def test_get_returns_the_registration_with_its_validation_history(
    zeep_as, credentials_a, client_a, django_capture_on_commit_callbacks
):
    service = zeep_as(credentials_a)
    with django_capture_on_commit_callbacks(execute=True):
        (registration_id,) = _register(service, client_a)
    answer = service.getPresenceRegistration(GetPresenceRegistrationRequest={"PresenceRegistrationId": registration_id})
    assert answer.GetPresenceRegistrationRequest.PresenceRegistrationId == registration_id
    found = answer.GetPresenceRegistrationType.PresenceRegistrationType
    stored = Registration.objects.get(pk=registration_id)
    assert stored.status == "failed"  # validated after commit; no reference data: remarks
    history = found.ValidationHistory.Validation
    assert [v.Status for v in history] == ["SUCCESSFULLY REGISTERED", found.LastValidation.Status]
    assert found.LastValidation.Status == "FAILED"
    assert history[1].ValidationDate is not None
    remarks = found.LastValidation.RemarkList
    texts = [entry["Remark"] for entry in remarks._value_1]
    assert "THE COMPANY DOESN'T EXISTS" in texts
    assert texts == [REMARKS[number].text for number in stored.remarks][:10]
    assert found.Sender.SenderId == str(client_a.id)
    assert found.Sender.SenderCompanyId == int(client_a.enterprise_number)


def test_the_validation_history_lists_status_changes_only_in_the_contracts_labels(zeep_as, credentials_a, client_a):
    """A correction supersedes a registration for REST (`edited`); the SOAP contract has no
    such status, so its ValidationHistory shows the stored statuses alone, as always."""
    employer = caller_for_client(client_a)
    [result] = registration_submit_cleaning_batch(
        items=[
            CleaningInput(
                event_type="IN",
                event_at=timezone.now() - timedelta(minutes=5),
                niss=make_niss(),
                workplace_id=make_workplace_id(),
                enterprise_number=client_a.enterprise_number,
            )
        ],
        caller=employer,
    )
    registration_id = result.registration.pk
    registration_validate_batch(registration_ids=[registration_id])
    registration_correct_cleaning(
        correction=CorrectionInput(registration_id, "OUT", timezone.now() - timedelta(minutes=1), "forgot"),
        caller=Caller.for_operator("cor"),
    )
    registration_cancel_batch(items=[CancelInput(registration_id, "PLANNING")], caller=employer, channel="REST")
    service = zeep_as(credentials_a)
    answer = service.getPresenceRegistration(GetPresenceRegistrationRequest={"PresenceRegistrationId": registration_id})
    found = answer.GetPresenceRegistrationType.PresenceRegistrationType
    history = found.ValidationHistory.Validation
    assert [v.Status for v in history] == ["SUCCESSFULLY REGISTERED", "FAILED", "SUCCESSFULLY CANCELLED"]
    assert history[0].ValidationDate is None
    assert history[2].ValidationDate == Registration.objects.get(pk=registration_id).cancelled_at
    assert history[1].RemarkList is not None
    assert found.LastValidation.Status == "SUCCESSFULLY CANCELLED"


def test_get_of_an_unknown_id_answers_the_empty_element(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    answer = service.getPresenceRegistration(GetPresenceRegistrationRequest={"PresenceRegistrationId": 424242})
    assert answer.GetPresenceRegistrationRequest.PresenceRegistrationId == 424242
    assert answer.GetPresenceRegistrationType is None  # zeep maps the empty element to None (trap T2)


def test_remark_texts_travel_verbatim_both_ways(zeep_as, credentials_a, client_a, django_capture_on_commit_callbacks):
    """Remark 12 has double spaces: searching by it finds the registration carrying it."""
    service = zeep_as(credentials_a)
    declaration = make_declaration(builder=make_enterprise_number())
    with django_capture_on_commit_callbacks(execute=True):
        (registration_id,) = _register(service, client_a, WorkPlaceId=declaration.number)
    _register(service, client_a)  # a registration without remark 12
    text = "COMPANY IS NOT KNOWN  AS BUILDER OR  SUBCONTRACTOR IN THIS DUC"
    answer = service.searchPresences(
        SearchPresenceRequest={
            "SearchPresenceRegistrationCriteria": {
                "RemarkList": {"Remark": [text]},
                "RegistrationPeriodList": _period(),
            }
        }
    )
    (found,) = answer.PresenceRegistrationList.PresenceRegistration
    assert found.PresenceRegistrationId == registration_id
    assert text in [entry["Remark"] for entry in found.LastValidation.RemarkList._value_1]


@pytest.mark.parametrize(
    ("criteria", "paging", "field"),
    [
        ({}, {"FirstRow": -1, "FetchSize": 50}, "FirstRow"),
        ({}, {"FirstRow": 0, "FetchSize": 501}, "FetchSize"),
        ({"Sector": 9}, None, "Sector"),
        ({"INSS": "85073003329"}, None, "INSS"),
    ],
    ids=["negative-first-row", "fetch-size-over-500", "unknown-sector", "bad-inss-check"],
)
def test_a_search_the_schema_admits_but_the_service_cannot_run_is_a_content_fault(
    zeep_as, credentials_a, client_a, criteria, paging, field
):
    service = zeep_as(credentials_a)
    request = {"SearchPresenceRegistrationCriteria": {**criteria, "RegistrationPeriodList": _period()}}
    if paging:
        request["PaginationProperties"] = paging
    with pytest.raises(zeep.exceptions.Fault) as raised:
        service.searchPresences(SearchPresenceRequest=request)
    fault = read_fault(raised.value)
    assert (fault.code, fault.kind) == ("SOA-03007", "BusinessError")
    assert field in raised.value.detail[0].findtext("{http://socialsecurity.be/errors/v1}Message")


def test_a_search_with_a_period_ending_before_it_starts_is_a_content_fault(zeep_as, credentials_a, client_a):
    today = timezone.localdate()
    period = {
        "RegistrationPeriod": [
            {"RegistrationPeriodStartDate": today, "RegistrationPeriodEndDate": today - timedelta(days=1)}
        ]
    }
    with pytest.raises(zeep.exceptions.Fault) as raised:
        zeep_as(credentials_a).searchPresences(
            SearchPresenceRequest={"SearchPresenceRegistrationCriteria": {"RegistrationPeriodList": period}}
        )
    assert read_fault(raised.value).code == "SOA-03007"


def test_search_by_creation_window_reads_a_time_without_zone_as_brussels_time(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    _register(service, client_a, 2)
    now = timezone.now()

    def count(start, end=None):
        criteria = {"RegistrationPeriodList": _period(), "CreationStartDate": start, "CreationEndDate": end}
        answer = service.searchPresences(SearchPresenceRequest={"SearchPresenceRegistrationCriteria": criteria})
        return answer.PresenceRegistrationList.PresenceRegistrationResultCount

    assert count(now - timedelta(minutes=5), now + timedelta(minutes=5)) == 2
    assert count(now + timedelta(minutes=5)) == 0
    brussels_wall_clock = timezone.localtime(now).replace(tzinfo=None)
    assert count(brussels_wall_clock - timedelta(minutes=30)) == 2  # read as UTC it would find none


def test_a_registration_made_outside_soap_is_shown_in_its_consult_form(zeep_as, credentials_a, client_a):
    from registrations.models import Channel
    from registrations.services.presences import registration_submit_batch
    from tests.factories import caller_for, presence

    (result,) = registration_submit_batch(
        items=[presence(caller=caller_for(client_a))], caller=caller_for(client_a), channel=Channel.ADMIN
    )
    answer = zeep_as(credentials_a).getPresenceRegistration(
        GetPresenceRegistrationRequest={"PresenceRegistrationId": result.registration.pk}
    )
    found = answer.GetPresenceRegistrationType.PresenceRegistrationType
    assert found.PresenceRegistrationSubmitted is None
    consult = found.PresenceRegistrationConsultSubmitted
    assert (consult.INSS, consult.WorkPlaceId) == (result.registration.niss, result.registration.workplace_id)
    assert found.Channel == "ADMIN"
