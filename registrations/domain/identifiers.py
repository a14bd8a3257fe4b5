"""Normalising and checking the identifiers a client submits (spec §2, §4.1).

Validation is python-stdnum's; what stdnum is lenient about (full-width or Arabic-Indic
digits, a "BE" prefix) is refused here first, because the contract's identifiers are ASCII.
"""

import re

from stdnum.be import ssn, vat
from stdnum.exceptions import InvalidChecksum, ValidationError

from registrations.domain.exceptions import ItemError, ItemErrorCode

_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# The printed forms people copy from documents: 85.07.30-033.28, 0448.181.966, 0448 181 966.
_SEPARATORS = re.compile(r"[.\- ]")
_WORKPLACE_ID = re.compile(r"[A-HJ-NP-Z0-9]{13}", re.ASCII)
_LIMOSA_ID = re.compile(r"[0-9]{1,32}", re.ASCII)
_FOREIGN_VAT = re.compile(r"(?!BE)[A-Z]{2}[A-Z0-9]{2,30}", re.ASCII)


def normalise_niss(raw: str) -> str | ItemError:
    """An 11-digit NISS or BIS number, or error 5.

    Normalisation rule (the only one, documented in docs/identifiers.md): surrounding
    whitespace and the separators '.', '-' and ' ' are removed; what remains must be exactly
    11 ASCII digits with a valid check (born before or from 2000, BIS month +20/+40, unknown
    birth date 00). Nothing is ever truncated or padded.
    """
    value = _SEPARATORS.sub("", raw.strip())
    if len(value) != 11 or not _ASCII_DIGITS.fullmatch(value) or not ssn.is_valid(value):
        return ItemError(ItemErrorCode.PERSON_ID_INVALID)
    return value


def normalise_enterprise_number(raw: str | int) -> str | ItemError:
    """A 10-digit enterprise number, or error 2 (malformed) / 3 (check digits).

    SOAP carries CompanyID as xs:long, which drops the leading zero: 9 digits get it back.
    """
    text = str(raw).strip()
    value = _SEPARATORS.sub("", text)
    # A sign is not a separator: -448181966 is not an enterprise number (xs:long allows it).
    if text[:1] in ("-", "+") or not _ASCII_DIGITS.fullmatch(value) or len(value) not in (9, 10):
        return ItemError(ItemErrorCode.COMPANY_ID_MALFORMED)
    value = value.zfill(10)
    if value[0] not in "01":
        return ItemError(ItemErrorCode.COMPANY_ID_MALFORMED)
    try:
        vat.validate(value)
    except InvalidChecksum:
        return ItemError(ItemErrorCode.COMPANY_ID_CHECKSUM)
    except ValidationError:
        return ItemError(ItemErrorCode.COMPANY_ID_MALFORMED)
    return value


def normalise_workplace_id(raw: str) -> str | ItemError:
    value = raw.strip()
    if not _WORKPLACE_ID.fullmatch(value):
        return ItemError(ItemErrorCode.WORKPLACE_ID_MALFORMED)
    return value


def normalise_limosa_id(raw: str) -> str | ItemError:
    """A Limosa declaration id: a digit string (at most 32). Otherwise error 5."""
    value = raw.strip()
    if not _LIMOSA_ID.fullmatch(value):
        return ItemError(ItemErrorCode.PERSON_ID_INVALID, "LimosaId is not a well-formed Limosa declaration id")
    return value


def normalise_foreign_vat_number(raw: str) -> str | ItemError:
    """A foreign VAT number: country code and 2 to 30 letters or digits, not Belgian (BE),
    in capitals without surrounding whitespace. Otherwise error 17."""
    value = raw.strip().upper()
    if not _FOREIGN_VAT.fullmatch(value):
        return ItemError(ItemErrorCode.EMPLOYER_INVALID)
    return value


def is_bis(niss: str) -> bool:
    """BIS numbers (people not in the National Register) add 20 or 40 to the birth month."""
    return len(niss) == 11 and int(niss[2:4]) >= 20
