"""The contract's types as Spyne models (namespace rules: soap-contract note §2).

Spyne writes each member in the namespace of the type that declares it, so every type here
lives in the content namespace `T`; the wrappers and their direct children are in `PR`
(application tns + argument names, see services.py). Each `xs:choice` is a set of optional
members: the request side is enforced by our XSD before Spyne sees it, the response side by
the code that fills exactly one branch.
"""

from typing import Any

from spyne import ComplexModel, Date, DateTime, Integer, Long, Unicode

PR = "http://socialsecurity.be/presenceregistration/v1"
T = "http://socialsecurity.be/presenceregistration/schemas/v1"

REQ = {"min_occurs": 1, "nillable": False}
OPT = {"min_occurs": 0, "nillable": False}  # None => element omitted, never xsi:nil

STATUSES = ("SUCCESSFULLY REGISTERED", "SUCCESSFULLY CANCELLED", "VALIDATED", "FAILED")


class TBase(ComplexModel):  # type: ignore[misc]  # Spyne has no type information
    __namespace__ = T

    def __init__(self, **values: Any) -> None:
        """Every member None unless given, as Spyne's own __init__ leaves our types, at a
        fraction of its cost (it walks SQLAlchemy-aware setters: 7 ms per 200 registrations,
        bench/soap_register.py). Raises TypeError for a name the type does not have."""
        members = type(self)._type_info
        unknown = values.keys() - members.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} has no member {sorted(unknown)}")
        self.__dict__.update(dict.fromkeys(members))
        self.__dict__.update(values)


class PresenceRegistrationSubmitType(TBase):
    _type_info = [
        ("RegistrationDate", Date(**OPT)),
        ("INSS", Unicode(**OPT)),
        ("CompanyID", Long(**OPT)),
        ("LimosaId", Unicode(**OPT)),
        ("WorkPlaceId", Unicode(**REQ)),
        ("ClientPresenceRegistrationReference", Unicode(**OPT)),
    ]


class PresenceRegistrationConsultSubmitType(TBase):
    _type_info = [
        ("RegistrationDate", Date(**OPT)),
        ("INSS", Unicode(**OPT)),
        ("CompanyID", Long(**OPT)),
        ("LimosaId", Unicode(**OPT)),
        ("VatNumber", Unicode(**OPT)),
        ("WorkPlaceId", Unicode(**REQ)),
        ("ClientPresenceRegistrationReference", Unicode(**OPT)),
    ]


class Error(TBase):
    _type_info = [("ErrorCode", Unicode(**REQ)), ("ErrorDescription", Unicode(**REQ))]


class RequestErrorType(TBase):
    _type_info = [("Error", Error.customize(min_occurs=1, max_occurs=10, nillable=False))]


class RemarkListType(TBase):
    _type_info = [("Remark", Unicode(min_occurs=1, max_occurs=10, nillable=False))]


class ValidationType(TBase):
    _type_info = [
        ("Status", Unicode(**REQ)),
        ("ValidationDate", DateTime(**OPT)),
        ("RemarkList", RemarkListType.customize(**OPT)),
    ]


class ValidationHistoryType(TBase):
    _type_info = [("Validation", ValidationType.customize(min_occurs=1, max_occurs="unbounded", nillable=False))]


class SenderType(TBase):
    _type_info = [
        ("SenderId", Unicode(**OPT)),
        ("SenderCompanyId", Long(**OPT)),
        ("SenderUserType", Unicode(**OPT)),
    ]


class PresenceRegistrationType(TBase):
    _type_info = [
        ("PresenceRegistrationSubmitted", PresenceRegistrationSubmitType.customize(**OPT)),
        ("PresenceRegistrationConsultSubmitted", PresenceRegistrationConsultSubmitType.customize(**OPT)),
        ("Sector", Integer(**OPT)),
        ("INSS", Unicode(**OPT)),
        ("PresenceRegistrationId", Long(**REQ)),
        ("CreationDate", DateTime(**REQ)),
        ("Channel", Unicode(**REQ)),
        ("LastValidation", ValidationType.customize(**REQ)),
        ("ValidationHistory", ValidationHistoryType.customize(**OPT)),
        ("Sender", SenderType.customize(**OPT)),
    ]


class RegisterPresenceRegistrationErrorType(TBase):
    _type_info = [
        ("PresenceRegistrationSubmitted", PresenceRegistrationSubmitType.customize(**REQ)),
        ("ErrorList", RequestErrorType.customize(**REQ)),
    ]


class RegisterPresenceRegistrationResponse(TBase):
    _type_info = [
        ("PresenceRegistration", PresenceRegistrationType.customize(**OPT)),
        ("PresenceRegistrationError", RegisterPresenceRegistrationErrorType.customize(**OPT)),
    ]


class CancelPresenceRequestType(TBase):
    _type_info = [("PresenceRegistrationId", Long(**REQ)), ("CancellationReason", Unicode(**REQ))]


class CancelPresenceRegistrationErrorType(TBase):
    _type_info = [
        ("CancelPresenceRequest", CancelPresenceRequestType.customize(**REQ)),
        ("ErrorList", RequestErrorType.customize(**REQ)),
    ]


class CancelPresenceRegistrationResponse(TBase):
    _type_info = [
        ("PresenceRegistration", PresenceRegistrationType.customize(**OPT)),
        ("PresenceRegistrationError", CancelPresenceRegistrationErrorType.customize(**OPT)),
    ]


class StatusListType(TBase):
    _type_info = [("Status", Unicode(min_occurs=1, max_occurs=4, nillable=False))]


class SearchRemarkListType(TBase):
    _type_info = [("Remark", Unicode(min_occurs=1, max_occurs=17, nillable=False))]


class RegistrationPeriodType(TBase):
    _type_info = [
        ("RegistrationPeriodStartDate", Date(**REQ)),
        ("RegistrationPeriodEndDate", Date(**REQ)),
    ]


class RegistrationPeriodListType(TBase):
    _type_info = [("RegistrationPeriod", RegistrationPeriodType.customize(min_occurs=1, max_occurs=31, nillable=False))]


class SearchPresenceRegistrationCriteria(TBase):
    _type_info = [
        ("INSS", Unicode(**OPT)),
        ("CompanyID", Long(**OPT)),
        ("WorkPlaceId", Unicode(**OPT)),
        ("StatusList", StatusListType.customize(**OPT)),
        ("RemarkList", SearchRemarkListType.customize(**OPT)),
        ("RegistrationPeriodList", RegistrationPeriodListType.customize(**REQ)),
        ("CreationStartDate", DateTime(**OPT)),
        ("CreationEndDate", DateTime(**OPT)),
        ("Sector", Integer(**OPT)),
    ]


class PaginationPropertiesType(TBase):
    _type_info = [("FirstRow", Integer(**REQ)), ("FetchSize", Integer(**REQ))]


class SortingPropertiesType(TBase):
    _type_info = [("SortDirection", Unicode(**REQ)), ("SortCriteria", Unicode(**REQ))]


class SearchPresencesRequestType(TBase):
    _type_info = [
        ("SearchPresenceRegistrationCriteria", SearchPresenceRegistrationCriteria.customize(**REQ)),
        ("PaginationProperties", PaginationPropertiesType.customize(**OPT)),
        ("SortingProperties", SortingPropertiesType.customize(**OPT)),
    ]


class PresenceRegistrationList(TBase):
    _type_info = [
        ("PresenceRegistrationResultCount", Long(**REQ)),
        ("PresenceRegistration", PresenceRegistrationType.customize(min_occurs=0, max_occurs=500, nillable=False)),
    ]


class SearchPresenceRegistrationErrorType(TBase):
    _type_info = [("ErrorList", RequestErrorType.customize(**REQ))]


class SearchPresencesResponseType(TBase):
    _type_info = [
        ("SearchPresencesRequest", SearchPresencesRequestType.customize(**REQ)),
        ("PresenceRegistrationList", PresenceRegistrationList.customize(**OPT)),
        ("PresenceRegistrationError", SearchPresenceRegistrationErrorType.customize(**OPT)),
    ]


class GetPresenceRegistrationRequestType(TBase):
    _type_info = [("PresenceRegistrationId", Long(**REQ))]


class GetPresenceRegistrationType(TBase):
    _type_info = [("PresenceRegistrationType", PresenceRegistrationType.customize(**OPT))]


class GetPresenceRegistrationResponseType(TBase):
    _type_info = [
        ("GetPresenceRegistrationRequest", GetPresenceRegistrationRequestType.customize(**REQ)),
        ("GetPresenceRegistrationType", GetPresenceRegistrationType.customize(**REQ)),
    ]
