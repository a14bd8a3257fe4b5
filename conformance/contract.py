"""Facts of the two public contracts the kit relies on: namespaces, the remark texts, and
the date rules of the data file (docs/sandbox.md). Written from the contracts, not imported
from the service: the kit must run against any server."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PR = "http://socialsecurity.be/presenceregistration/v1"
T = "http://socialsecurity.be/presenceregistration/schemas/v1"
ERR = "http://socialsecurity.be/errors/v1"
BRUSSELS = ZoneInfo("Europe/Brussels")
REST_PATH = "/REST/presenceRegistration/v1"
TOKEN_PATH = "/REST/oauth/v5/token"  # noqa: S105 - a URL path, not a secret
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# The contract's 17 remarks, verbatim (typos and double spaces included); REST names them
# CAW_01..CAW_17 in this order. 18 is this service's cleaning distance remark (REST only).
REMARK_TEXTS = {
    1: "RELATED DIMONA NOT OK",
    2: "GIVEN INSS IS NOT THE FOUNDER OF THE COMPANY",
    3: "EMPLOYER IS NOT KNOWN AS COMPANY FOUNDER",
    4: "THE COMPANY DOESN'T EXISTS",
    5: "INDEPENDANT IS NOT KNOWN AS COMPANY FOUNDER",
    6: "LIMOSA ID IS NOT KNOWN",
    7: "LIMOSA ID IS NOT ACTIVE AT DATE",
    8: "NISS-BIS IS NOT KNOWN IN LIMOSA",
    9: "NISS-BIS IS NOT ACTIVE AT THIS DATE IN LIMOSA",
    10: "DUC IS NOT EXISTING",
    11: "DUC IS NOT ACTIVE AT THIS DATE",
    12: "COMPANY IS NOT KNOWN  AS BUILDER OR  SUBCONTRACTOR IN THIS DUC",
    13: "SITE IS NOT SUBJECT TO PRESENCE REGISTRATION",
    14: "SAME DECLARATION HAS ALREADY BEEN REGISTERED",
    15: "NISS IS NOT KNOW IN THE NATIONAL REGISTER",
    16: "EMPLOYER NOT ACTIVE",
    17: "THE COMPANY ID ASSOCIATED AT A NOT ACTIVE CONTRACT",
}
REMARK_NUMBERS = {text: number for number, text in REMARK_TEXTS.items()}

_DAY = re.compile(r"today(?:\+(\d+))?|tomorrow")
_MOMENT = re.compile(r"now(?:([+-])(\d+)min)?")


def rest_code(number: int) -> str:
    return f"CAW_{number:02d}"


def remark_number(label: str) -> int:
    """A remark as SOAP (its text) or REST (CAW_nn) shows it, as its number; 0 if unknown."""
    if label.startswith("CAW_") and label[4:].isdigit():
        return int(label[4:])
    return REMARK_NUMBERS.get(label, 0)


def today() -> date:
    return datetime.now(BRUSSELS).date()


def resolve_day(rule: str) -> date:
    """`today`, `tomorrow` or `today+N`: a date in Europe/Brussels."""
    match = _DAY.fullmatch(rule)
    if match is None:
        raise ValueError(f"not a date rule: {rule!r} (today, tomorrow, today+N)")
    return today() + timedelta(days=1 if rule == "tomorrow" else int(match.group(1) or 0))


def resolve_moment(rule: str) -> datetime:
    """`now`, `now-15min`, `now+5min`: a moment with its Brussels offset, to the second."""
    match = _MOMENT.fullmatch(rule)
    if match is None:
        raise ValueError(f"not a moment rule: {rule!r} (now, now-Nmin, now+Nmin)")
    minutes = int(match.group(2) or 0) * (-1 if match.group(1) == "-" else 1)
    return (datetime.now(BRUSSELS) + timedelta(minutes=minutes)).replace(microsecond=0)
