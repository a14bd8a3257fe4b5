"""Request and response shapes of spec §6, in camelCase by construction.

Input serializers check structure only (what OpenAPI can say): types, lengths, exactly-one
choices, unknown properties. Identifier checks (NISS check digits, enterprise numbers, the
real-time window, the IN/OUT state) are the core's and come back per item in `errorList`.
Output serializers describe the answers for the OpenAPI schema; `presenters` builds them.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from registrations.domain.activities import ACTIVITIES
from registrations.domain.limits import MAX_BATCH
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import CancellationReason, Channel
from registrations.selectors.lifecycle import PresenceStatus, Validity

REMARK_CODES = [REMARKS[number].rest_code for number in sorted(REMARKS)]
# The values a search criterion takes, spelled as a registration shows them.
EVENT_TYPES = ["in", "out"]
CHANNELS = list(Channel.values)
ACTIVITY_CODES = list(ACTIVITIES)
STATUSES = [status.value for status in PresenceStatus]
VALIDITIES = [validity.value for validity in Validity]
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class StrictSerializer(serializers.Serializer[Any]):
    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, Any] = {}
        value = None
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if not isinstance(exc.detail, Mapping):
                raise
            errors = dict(exc.detail)
        if isinstance(data, Mapping):
            for key in data:
                if key not in self.fields:
                    errors[str(key)] = [ErrorDetail("Unknown input", code="unknown_input")]
        if errors:
            raise ValidationError(errors)
        return value


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictDateField(serializers.DateField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(data)


class OffsetDateTimeField(serializers.DateTimeField):
    """An RFC 3339 timestamp that must carry its offset (Z or ±hh:mm): never guessed."""

    default_error_messages = {"offset": "The timestamp must carry an offset (Z or +hh:mm)"}

    def to_internal_value(self, value: Any) -> Any:
        if not isinstance(value, str):
            self.fail("invalid", format="YYYY-MM-DDThh:mm:ss+hh:mm")
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            self.fail("offset")
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
        "example": "2027-04-01T00:00:00+02:00",
    }
)
class DateOrMomentField(serializers.Field[date | datetime, str, str, Any]):
    """A plain date (YYYY-MM-DD) or an RFC 3339 date-time with its offset, kept as sent: the
    core decides what each means in a window (`registrations.selectors.registration_window`)."""

    default_error_messages = {
        "invalid": "must be a date (YYYY-MM-DD) or a date-time with its offset (YYYY-MM-DDThh:mm:ss+hh:mm)",
        "offset": "a date-time must carry its offset (Z or +hh:mm): without it the moment is ambiguous",
    }

    def to_internal_value(self, data: Any) -> date | datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        if _PLAIN_DATE.fullmatch(data):
            try:
                return date.fromisoformat(data)
            except ValueError:
                self.fail("invalid")
        try:
            moment = parse_datetime(data)
        except ValueError:
            moment = None
        if moment is None:
            self.fail("invalid")
        if moment.tzinfo is None:
            self.fail("offset")
        return moment

    def to_representation(self, value: date | datetime) -> str:
        return value.isoformat()


class StrictChoiceField(serializers.ChoiceField):
    """A choice whose refusal lists the allowed values and never repeats the submitted one.

    DRF's own message quotes the input (`"x" is not a valid choice.`), even an object or a
    list turned into text; the issue's `value` already carries a scalar input back as JSON.
    """

    def __init__(self, *, choices: Sequence[str], **kwargs: Any) -> None:
        super().__init__(choices=choices, **kwargs)
        self.error_messages["invalid_choice"] = f"must be one of {', '.join(choices)}"


class EventTypeField(StrictCharField):
    """`in` or `out`, in any case (spec §6)."""

    default_error_messages = {"invalid_choice": 'must be "in" or "out" (any case)'}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=3, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value.lower() not in ("in", "out"):
            self.fail("invalid_choice", input=value)
        return value.upper()


def _exactly_one(data: Mapping[str, Any], names: tuple[str, str]) -> None:
    present = [name for name in names if data.get(name) is not None]
    if len(present) != 1:
        message = f"exactly one of {names[0]} and {names[1]} is expected"
        raise ValidationError({"non_field_errors": [ErrorDetail(message, code="exactly_one")]})


class EmployerIn(StrictSerializer):
    enterpriseNumber = StrictCharField(required=False, max_length=20, help_text="10 digits, 0 or 1 first")
    foreignVatNumber = StrictCharField(required=False, max_length=40, help_text="e.g. NL123456789B01")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _exactly_one(attrs, ("enterpriseNumber", "foreignVatNumber"))
        return attrs


class CoordinatesIn(StrictSerializer):
    latitude = StrictFloatField(min_value=-90, max_value=90)
    longitude = StrictFloatField(min_value=-180, max_value=180)


class AddressIn(StrictSerializer):
    postCode = StrictCharField(max_length=16)
    municipalityName = StrictCharField(max_length=100)
    streetName = StrictCharField(max_length=200)
    houseNumber = StrictCharField(max_length=16)
    boxNumber = StrictCharField(max_length=16, required=False, allow_blank=True)


class PlaceOfWorkIn(StrictSerializer):
    coordinates = CoordinatesIn(required=False)
    address = AddressIn(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _exactly_one(attrs, ("coordinates", "address"))
        return attrs


class PresenceRegistrationIn(StrictSerializer):
    registrationDate = OffsetDateTimeField(help_text="when the event happened, with its offset")
    ssin = StrictCharField(max_length=20, help_text="the worker's NISS or BIS number (11 digits)")
    type = EventTypeField(help_text="in or out (any case)")
    employer = EmployerIn()
    placeOfWork = PlaceOfWorkIn()
    contractualRelationshipReference = StrictCharField(
        max_length=20, help_text="the Declaration of Works number (13 characters)"
    )
    customReference = StrictCharField(max_length=64, required=False, allow_blank=True)
    activity = StrictCharField(max_length=32, required=False, allow_blank=True, help_text="see refData/activities")


class RegisterInBulkIn(StrictSerializer):
    items = serializers.ListField(child=PresenceRegistrationIn(), min_length=1, max_length=MAX_BATCH)


class CancelItemIn(StrictSerializer):
    id = StrictIntegerField(min_value=1, max_value=999_999_999_999_999)
    reason = StrictChoiceField(choices=CancellationReason.values)


class CancelInBulkIn(StrictSerializer):
    items = serializers.ListField(child=CancelItemIn(), min_length=1, max_length=MAX_BATCH)


class PeriodIn(StrictSerializer):
    startDate = DateOrMomentField(help_text="a date (whole days, Brussels) or a date-time with its offset")
    endDate = DateOrMomentField(help_text="inclusive; a date is its last instant in Brussels")


class SearchEmployerIn(StrictSerializer):
    enterpriseNumber = StrictCharField(required=False, max_length=20, help_text="10 digits, 0 or 1 first")
    foreignVatNumber = StrictCharField(required=False, max_length=40, help_text="e.g. NL123456789B01")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _exactly_one(attrs, ("enterpriseNumber", "foreignVatNumber"))
        return attrs


def _any_of(choices: list[str], what: str) -> serializers.ListField:
    """A criterion naming codes: it matches a registration with any of them."""
    return serializers.ListField(
        child=StrictChoiceField(choices=choices), required=False, max_length=len(choices), help_text=f"any of {what}"
    )


class SearchCriteriaIn(StrictSerializer):
    """Every property of a registration as GET shows it, with the same names and values.
    Identifiers and references take one value; codes take a list and match any of them."""

    registrationDate = PeriodIn()
    ssin = StrictCharField(required=False, max_length=20)
    employer = SearchEmployerIn(required=False)
    contractualRelationshipReference = StrictCharField(required=False, max_length=20)
    customReference = StrictCharField(required=False, max_length=64)
    type = _any_of(EVENT_TYPES, "in, out")
    channel = _any_of(CHANNELS, "the channels")
    activity = _any_of(ACTIVITY_CODES, "the activity codes (refData/activities)")
    status = _any_of(STATUSES, "registered, edited, cancelled")
    validity = _any_of(VALIDITIES, "pending, valid, invalid")
    remarks = _any_of(REMARK_CODES, "the remark codes (refData/remarks)")


class PresenceRegistrationQueryIn(StrictSerializer):
    """The query parameters of `GET /presenceRegistrations`: the criteria of the search by
    body, one value each, except the person (a NISS never goes in a URL)."""

    registrationDateFrom = DateOrMomentField(help_text="a date (whole days, Brussels) or a date-time with its offset")
    registrationDateTo = DateOrMomentField(help_text="inclusive; a date is its last instant in Brussels")
    enterpriseNumber = StrictCharField(required=False, max_length=20, help_text="the employer")
    foreignVatNumber = StrictCharField(required=False, max_length=40, help_text="a foreign employer")
    contractualRelationshipReference = StrictCharField(required=False, max_length=20, help_text="Declaration of Works")
    customReference = StrictCharField(required=False, max_length=64)
    type = StrictChoiceField(choices=EVENT_TYPES, required=False)
    channel = StrictChoiceField(choices=CHANNELS, required=False)
    activity = StrictChoiceField(choices=ACTIVITY_CODES, required=False)
    status = StrictChoiceField(choices=STATUSES, required=False)
    validity = StrictChoiceField(choices=VALIDITIES, required=False)
    remarks = StrictChoiceField(choices=REMARK_CODES, required=False)
    remark = StrictChoiceField(choices=REMARK_CODES, required=False, help_text="the former name of remarks")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for first, second in (("enterpriseNumber", "foreignVatNumber"), ("remarks", "remark")):
            if first in attrs and second in attrs:
                message = f"give {first} or {second}, not both"
                raise ValidationError({second: [ErrorDetail(message, code="exactly_one")]})
        return attrs


SORT_FIELDS = ["id", "registrationDate", "creationDate", "status", "contractualRelationshipReference", "employer"]


class SortIn(StrictSerializer):
    field = StrictChoiceField(choices=SORT_FIELDS, required=False)
    order = StrictChoiceField(choices=["asc", "desc"], required=False)


class SearchIn(StrictSerializer):
    criteria = SearchCriteriaIn()
    sort = SortIn(required=False)


class PerformanceSearchIn(StrictSerializer):
    startDate = StrictDateField()
    endDate = StrictDateField(help_text="at most 31 days after startDate")
    ssin = StrictCharField(required=False, max_length=20)
    contractualRelationshipReference = StrictCharField(required=False, max_length=20)
    enterpriseNumber = StrictCharField(required=False, max_length=20)


class AddressesNearIn(StrictSerializer):
    coordinates = CoordinatesIn()
    radiusMeters = StrictIntegerField(required=False, min_value=1, max_value=5000, help_text="default 150")
    limit = StrictIntegerField(required=False, min_value=1, max_value=10, help_text="default 10")


# --- answers --------------------------------------------------------------------------------


class LabelsOut(serializers.Serializer[Any]):
    nl = serializers.CharField()
    fr = serializers.CharField()
    de = serializers.CharField()
    en = serializers.CharField()


class CatalogueEntryOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    labels = LabelsOut()


class CatalogueOut(serializers.Serializer[Any]):
    items = CatalogueEntryOut(many=True)


class WorkerOut(serializers.Serializer[Any]):
    givenName = serializers.CharField()
    familyName = serializers.CharField()


class EmployerOut(serializers.Serializer[Any]):
    enterpriseNumber = serializers.CharField(required=False)
    foreignVatNumber = serializers.CharField(required=False)


class CoordinatesOut(serializers.Serializer[Any]):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class AddressOut(serializers.Serializer[Any]):
    postCode = serializers.CharField()
    municipalityName = serializers.CharField()
    streetName = serializers.CharField()
    houseNumber = serializers.CharField()
    boxNumber = serializers.CharField(required=False)


class PlaceOfWorkOut(serializers.Serializer[Any]):
    coordinates = CoordinatesOut(required=False)
    address = AddressOut(required=False)


class StatusOut(serializers.Serializer[Any]):
    code = serializers.ChoiceField(choices=STATUSES)
    date = serializers.DateTimeField()


class PresenceRegistrationOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    registrationDate = serializers.DateTimeField()
    ssin = serializers.CharField()
    type = serializers.ChoiceField(choices=["in", "out"])
    worker = WorkerOut(allow_null=True)
    employer = EmployerOut()
    placeOfWork = PlaceOfWorkOut(allow_null=True)
    contractualRelationshipReference = serializers.CharField()
    activity = serializers.CharField(allow_null=True)
    channel = serializers.CharField()
    customReference = serializers.CharField(allow_null=True)
    status = StatusOut()
    validity = serializers.ChoiceField(choices=VALIDITIES)
    remarks = CatalogueEntryOut(many=True)


class ItemErrorOut(serializers.Serializer[Any]):
    errorCode = serializers.IntegerField()
    errorDescription = serializers.CharField()


class NotCreatedOut(serializers.Serializer[Any]):
    errorList = ItemErrorOut(many=True)


class RegisterResultOut(serializers.Serializer[Any]):
    createdPresenceRegistration = PresenceRegistrationOut(required=False)
    notCreatedPresenceRegistration = NotCreatedOut(required=False)


class RegisterInBulkOut(serializers.Serializer[Any]):
    items = RegisterResultOut(many=True)


class NotCancelledOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    errorList = ItemErrorOut(many=True)


class CancelResultOut(serializers.Serializer[Any]):
    cancelledPresenceRegistration = PresenceRegistrationOut(required=False)
    notCancelledPresenceRegistration = NotCancelledOut(required=False)


class CancelInBulkOut(serializers.Serializer[Any]):
    items = CancelResultOut(many=True)


class HistoryEventOut(serializers.Serializer[Any]):
    sequence = serializers.IntegerField()
    type = serializers.CharField()
    occurredAt = serializers.DateTimeField()
    actor = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField(required=False)
    validity = serializers.CharField(required=False)
    remarks = serializers.ListField(child=serializers.CharField(), required=False)
    reason = serializers.CharField(required=False)


class HistoryOut(serializers.Serializer[Any]):
    items = HistoryEventOut(many=True)


class PeriodOut(serializers.Serializer[Any]):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True)
    workedTime = serializers.CharField(help_text="ISO 8601 duration, PT0S while open")
    open = serializers.BooleanField()
    inRegistrationId = serializers.IntegerField()
    outRegistrationId = serializers.IntegerField(allow_null=True)


class PerformanceOut(serializers.Serializer[Any]):
    ssin = serializers.CharField()
    contractualRelationshipReference = serializers.CharField()
    date = serializers.DateField()
    employer = EmployerOut()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(allow_null=True)
    workedTime = serializers.CharField(help_text="ISO 8601 duration of the closed periods, breaks excluded")
    open = serializers.BooleanField()
    periods = PeriodOut(many=True)


class LanguageNamesOut(serializers.Serializer[Any]):
    nl = serializers.CharField(required=False)
    fr = serializers.CharField(required=False)
    de = serializers.CharField(required=False)


class NearbyAddressOut(serializers.Serializer[Any]):
    address = AddressOut(help_text="in the region's language: send it back as placeOfWork.address")
    streetNames = LanguageNamesOut()
    municipalityNames = LanguageNamesOut()
    municipalityCode = serializers.CharField(help_text="NIS code")
    coordinates = CoordinatesOut()
    distanceMeters = serializers.FloatField()


class NearbyAddressesOut(serializers.Serializer[Any]):
    items = NearbyAddressOut(many=True)
