"""Error codes shared by both gateways: per-item admission codes and whole-call errors.

The per-item codes are the SOAP contract's (spec §4.1); REST reports the same numbers in its
`errorList`. Descriptions never contain the submitted values: they may hold a NISS.
"""

from enum import IntEnum


class ItemErrorCode(IntEnum):
    CANCEL_NOT_ALLOWED = 1
    COMPANY_ID_MALFORMED = 2
    COMPANY_ID_CHECKSUM = 3
    WORKPLACE_ID_MALFORMED = 4
    PERSON_ID_INVALID = 5
    REGISTRATION_DATE_NOT_ALLOWED = 6
    UNKNOWN_REGISTRATION = 7
    ALREADY_CANCELLED = 8
    TOO_LATE_TO_CANCEL = 9
    NOT_IN_THIS_SERVICE = 10
    INVALID_CANCELLATION_REASON = 11
    # Cleaning (REST) admission and IN/OUT state checks, spec §4.2 (registrations/services/cleaning.py).
    EVENT_TOO_LATE = 12
    EVENT_IN_FUTURE = 13
    CHECK_OUT_WITHOUT_CHECK_IN = 14
    CHECK_IN_ALREADY_OPEN = 15
    EVENT_BEFORE_LAST_EVENT = 16
    EMPLOYER_INVALID = 17
    PLACE_OF_WORK_INVALID = 18
    ACTIVITY_UNKNOWN = 19
    EVENT_INVALID = 20


ITEM_ERROR_DESCRIPTIONS: dict[ItemErrorCode, str] = {
    ItemErrorCode.CANCEL_NOT_ALLOWED: "You may consult this registration but not cancel it",
    ItemErrorCode.COMPANY_ID_MALFORMED: (
        "CompanyID is not a well-formed enterprise number (10 digits starting with 0 or 1)"
    ),
    ItemErrorCode.COMPANY_ID_CHECKSUM: "CompanyID fails the enterprise number check (modulo 97)",
    ItemErrorCode.WORKPLACE_ID_MALFORMED: (
        "WorkPlaceId is not a well-formed Declaration of Works number (13 characters A-Z, 0-9, without I and O)"
    ),
    ItemErrorCode.PERSON_ID_INVALID: "INSS is not a valid NISS or BIS number",
    ItemErrorCode.REGISTRATION_DATE_NOT_ALLOWED: "RegistrationDate must be today or tomorrow",
    ItemErrorCode.UNKNOWN_REGISTRATION: "Unknown presence registration",
    ItemErrorCode.ALREADY_CANCELLED: "The presence registration is already cancelled",
    ItemErrorCode.TOO_LATE_TO_CANCEL: "The presence registration can no longer be cancelled",
    ItemErrorCode.NOT_IN_THIS_SERVICE: (
        "The presence registration is not managed by this service and cannot be cancelled here"
    ),
    ItemErrorCode.INVALID_CANCELLATION_REASON: ("CancellationReason must be one of HOLIDAY, DISEASE, PLANNING, C32A"),
    ItemErrorCode.EVENT_TOO_LATE: (
        "The event happened more than 10 minutes ago: events are registered in real time, "
        "late registrations are refused (corrections go through an operator)"
    ),
    ItemErrorCode.EVENT_IN_FUTURE: (
        "The event is more than 2 minutes in the future: registering in advance is not allowed"
    ),
    ItemErrorCode.CHECK_OUT_WITHOUT_CHECK_IN: ("OUT without an open IN for this person and place of work"),
    ItemErrorCode.CHECK_IN_ALREADY_OPEN: (
        "IN while an IN is already open for this person and place of work: register the OUT first"
    ),
    ItemErrorCode.EVENT_BEFORE_LAST_EVENT: (
        "The event is earlier than the last event registered for this person and place of work"
    ),
    ItemErrorCode.EMPLOYER_INVALID: (
        "Give exactly one employer: a Belgian enterprise number or a foreign VAT number "
        "(country code and 2 to 30 letters or digits, not BE)"
    ),
    ItemErrorCode.PLACE_OF_WORK_INVALID: (
        "The coordinates are not a place of work in Belgium (finite WGS84 latitude and longitude)"
    ),
    ItemErrorCode.ACTIVITY_UNKNOWN: "The activity is not in the activities catalogue",
    ItemErrorCode.EVENT_INVALID: "The event type must be IN or OUT and its timestamp must carry an offset",
}


class ItemError:
    """One per-item error: a contract code and a description safe to show and to log."""

    __slots__ = ("code", "description")

    def __init__(self, code: ItemErrorCode, description: str | None = None) -> None:
        self.code = code
        self.description = description or ITEM_ERROR_DESCRIPTIONS[code]

    def __repr__(self) -> str:
        return f"ItemError({int(self.code)}, {self.description!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ItemError) and (self.code, self.description) == (
            other.code,
            other.description,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.description))


class RegistrationError(Exception):
    """A whole-call error: nothing of the call was stored. `code` is stable and documented."""

    code = "invalidRequest"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BatchSizeError(RegistrationError):
    code = "batchSize"


class NotAuthorisedError(RegistrationError):
    code = "notAuthorised"


class InvalidSearchError(RegistrationError):
    code = "invalidSearch"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
