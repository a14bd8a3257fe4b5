"""All four SOAP operations of PresenceRegistration v1.11 with zeep, signed with WS-Security.

    python examples/python/soap_zeep.py --base-url http://127.0.0.1:8000 \
        --credentials-dir var/demo --sheet sheet.json

`sheet.json` is `manage.py demo_sheet --json`: the identities used here come from it (an
employee of the demo client on its own construction site, which validates cleanly, and a
combination that raises remarks). Every option also reads an environment variable
(PRESENCE_BASE_URL, DEMO_CREDENTIALS_DIR, DEMO_SHEET). The script prints what it does and
exits with 1 on any answer the sheet does not promise. Needs zeep and xmlsec (pip install
zeep xmlsec).
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xmlsec
import zeep
from zeep.wsse.signature import BinarySignature
from zeep.wsse.utils import WSU, get_security_header

BRUSSELS = ZoneInfo("Europe/Brussels")


class TimestampedSignature(BinarySignature):
    """WS-Security as the service asks: the Body AND a Timestamp signed, RSA-SHA256/SHA-256.

    zeep signs the Timestamp only when it is already in the header, and defaults to SHA-1:
    both are fixed here. Our answers are not signed, so there is nothing to verify.
    """

    def __init__(self, key_file: str, cert_file: str) -> None:
        super().__init__(
            key_file,
            cert_file,
            signature_method=xmlsec.constants.TransformRsaSha256,
            digest_method=xmlsec.constants.TransformSha256,
        )

    def apply(self, envelope: Any, headers: Any) -> Any:
        now = datetime.now(UTC).replace(microsecond=0)
        get_security_header(envelope).append(
            WSU.Timestamp(
                WSU.Created(now.isoformat().replace("+00:00", "Z")),
                WSU.Expires((now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")),
            )
        )
        return super().apply(envelope, headers)

    def verify(self, envelope: Any) -> Any:
        return envelope


class UnexpectedAnswer(Exception):  # noqa: N818 - what the script reports
    pass


def expect(condition: bool, what: str) -> None:
    print(("  ok: " if condition else "  UNEXPECTED: ") + what)
    if not condition:
        raise UnexpectedAnswer(what)


def combination(sheet: dict[str, Any], key: str) -> dict[str, Any]:
    client = next(c for c in sheet["clients"] if c["mayRegister"])
    for section in ("clean", "remarks", "admissionErrors"):
        for found in client[section]:
            if found["key"] == key:
                return dict(found)
    raise SystemExit(f"the sheet has no combination {key}")


def item_of(found: dict[str, Any]) -> dict[str, Any]:
    """A sheet item as zeep wants it: the date rule as a date, CompanyID as the xs:long it is."""
    item = dict(found["steps"][0]["item"])
    today = datetime.now(BRUSSELS).date()
    item["RegistrationDate"] = today + timedelta(days=1) if item["RegistrationDate"] == "tomorrow" else today
    if "CompanyID" in item:
        item["CompanyID"] = int(item["CompanyID"])  # the leading 0 is dropped: 0448181966 -> 448181966
    return item


def remarks_of(validation: Any) -> list[str]:
    """zeep reads a RemarkList (a sequence of <Remark> in an xs:choice) as
    {'_value_1': [{'Remark': 'RELATED DIMONA NOT OK'}, ...]}, and no remark as None."""
    if validation.RemarkList is None:
        return []
    return [entry["Remark"] for entry in validation.RemarkList._value_1]


def settled(service: Any, registration_id: int) -> Any:
    """getPresenceRegistration until validation has run (at once on the embedded server)."""
    for _ in range(100):
        answer = service.getPresenceRegistration(
            GetPresenceRegistrationRequest={"PresenceRegistrationId": registration_id}
        )
        # An unknown id, or one you may not see, is an empty GetPresenceRegistrationType: zeep gives None.
        found = answer.GetPresenceRegistrationType
        if found is None:
            raise UnexpectedAnswer(f"registration {registration_id} not found")
        registration = found.PresenceRegistrationType
        if registration.LastValidation.Status != "SUCCESSFULLY REGISTERED":
            return registration
        time.sleep(0.3)
    raise UnexpectedAnswer(f"registration {registration_id} still not validated")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("PRESENCE_BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument(
        "--credentials-dir", type=Path, default=Path(os.environ.get("DEMO_CREDENTIALS_DIR", "var/demo"))
    )
    parser.add_argument(
        "--sheet", type=Path, default=os.environ.get("DEMO_SHEET"), required="DEMO_SHEET" not in os.environ
    )
    parser.add_argument("--pick", type=int, default=1, help="which clean construction combination (1, 2, 3)")
    args = parser.parse_args()
    sheet = json.loads(args.sheet.read_text())
    keys = args.credentials_dir
    client = zeep.Client(
        f"{args.base_url}/PresenceRegistration/v1?wsdl",
        wsse=TimestampedSignature(str(keys / "enterprise.key.pem"), str(keys / "enterprise.cert.pem")),
        # zeep 4.3 cannot parse the LimosaId branch of the contract's xs:choice in strict mode.
        settings=zeep.Settings(strict=False),
    )
    service = client.service
    clean = item_of(combination(sheet, f"clean-construction-{args.pick}"))
    with_remarks = combination(sheet, "remark-15")
    refused = item_of(combination(sheet, "error-soap-5"))

    print("registerPresences: a clean presence, one that raises remarks, one refused at admission")
    answer = service.registerPresences(PresenceRegistrationRequest=[clean, item_of(with_remarks), refused])
    # One PresenceRegistrationResponse per item, in order. Each holds either PresenceRegistration
    # (stored: SUCCESSFULLY REGISTERED, or the stored one's current status for a resend) or
    # PresenceRegistrationError (nothing stored); zeep sets the other branch to None.
    stored, failing, error = answer
    expect(stored.PresenceRegistration is not None, f"stored as {stored.PresenceRegistration.PresenceRegistrationId}")
    expect(failing.PresenceRegistration is not None, "the second is stored too: remarks never refuse")
    codes = [e.ErrorCode for e in error.PresenceRegistrationError.ErrorList.Error]  # ErrorCode is a string
    expect(codes == ["5"], f"the third is refused with error {codes}")

    print("getPresenceRegistration: wait for the validation, read its history")
    first = settled(service, stored.PresenceRegistration.PresenceRegistrationId)
    expect(first.LastValidation.Status == "VALIDATED", f"status {first.LastValidation.Status}")
    second = settled(service, failing.PresenceRegistration.PresenceRegistrationId)
    remarks = remarks_of(second.LastValidation)
    promised = with_remarks["steps"][0]["expect"]["remarks"]
    expect(second.LastValidation.Status == "FAILED" and len(remarks) == len(promised), f"FAILED with {remarks}")
    # ValidationHistory.Validation is a plain list: the registration itself first (no date), then
    # one entry per change of status or of the remark set.
    history = [v.Status for v in second.ValidationHistory.Validation]
    expect(history == ["SUCCESSFULLY REGISTERED", "FAILED"], f"history {history}")

    print("searchPresences: today's registrations this client may see")
    today = datetime.now(BRUSSELS).date()
    found = service.searchPresences(
        SearchPresenceRequest={
            "SearchPresenceRegistrationCriteria": {
                "RegistrationPeriodList": {
                    "RegistrationPeriod": [{"RegistrationPeriodStartDate": today, "RegistrationPeriodEndDate": today}]
                }
            },
            "PaginationProperties": {"FirstRow": 0, "FetchSize": 500},
            "SortingProperties": {"SortDirection": "DESCENDING", "SortCriteria": "ID"},
        }
    ).PresenceRegistrationList
    # The total count of matches, and at most FetchSize of them in PresenceRegistration (a list).
    ids = [r.PresenceRegistrationId for r in found.PresenceRegistration]
    expect(first.PresenceRegistrationId in ids, f"{found.PresenceRegistrationResultCount} found, ours among them")

    print("cancelPresences: cancel the one with remarks")
    (cancelled,) = service.cancelPresences(
        CancelPresenceRequest=[
            {"PresenceRegistrationId": second.PresenceRegistrationId, "CancellationReason": "PLANNING"}
        ]
    )
    # Per item: the cancelled PresenceRegistration, or PresenceRegistrationError with the request
    # echoed (CancelPresenceRequest) and its ErrorList (1, 7, 8, 9, 10, 11).
    status = cancelled.PresenceRegistration.LastValidation.Status
    expect(status == "SUCCESSFULLY CANCELLED", status)
    (again,) = service.cancelPresences(
        CancelPresenceRequest=[
            {"PresenceRegistrationId": second.PresenceRegistrationId, "CancellationReason": "PLANNING"}
        ]
    )
    codes = [e.ErrorCode for e in again.PresenceRegistrationError.ErrorList.Error]
    expect(codes == ["8"], f"cancelling it again: error {codes} (already cancelled)")
    print("done")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (UnexpectedAnswer, zeep.exceptions.Fault) as problem:
        print(f"FAILED: {problem}", file=sys.stderr)
        sys.exit(1)
