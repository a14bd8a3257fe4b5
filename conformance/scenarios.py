"""The catalogue of scenarios (docs/sandbox.md lists them): what vendors' software must handle.

Each scenario states what it expects and reads what it got, both as short text, and passes
when they are equal. A scenario that needs what the run was not given (a data file, a second
sender, a consult-only client) is skipped with the reason.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.contract import remark_number, rest_code, today
from conformance.rest import RestClient, event_item
from conformance.soap import M, Presence, SoapClient, SoapFault, presence_item, read_answer

UNKNOWN_ID = 999_999_999_999_999
REGISTERED = "SUCCESSFULLY REGISTERED"
CANCELLED = "SUCCESSFULLY CANCELLED"


class Skip(Exception):  # noqa: N818 - reads as what happens to the scenario
    """The scenario cannot run with what this run was given; the message says why."""


@dataclass(frozen=True)
class Check:
    expected: str
    got: str

    @property
    def passed(self) -> bool:
        return self.expected == self.got


@dataclass(frozen=True)
class Scenario:
    group: str
    name: str
    run: Callable[[], Check]


@dataclass
class Party:
    """One client's two clients (SOAP and REST)."""

    soap: SoapClient
    rest: RestClient


@dataclass
class Kit:
    main: Party
    data: dict[str, Any] | None = None  # this client's entry in the data file
    consult: Party | None = None  # a client that may only consult (403, SOA-01002)
    second: Party | None = None  # another enterprise client (duplicates from two senders)
    validation_timeout: float = 30.0
    rate_limit: bool = False  # provoke a 429 at the token endpoint (spends the client's budget)
    created: dict[str, list[int]] = field(default_factory=dict)  # ids per data combination

    # --- data -------------------------------------------------------------------------

    def combination(self, key: str) -> dict[str, Any]:
        if self.data is None:
            raise Skip("needs a data file (--data)")
        for section in ("clean", "remarks", "admissionErrors"):
            for combination in self.data.get(section, []):
                if combination["key"] == key:
                    return dict(combination)
        raise Skip(f"the data file has no combination {key}")

    def item(self, key: str) -> dict[str, Any]:
        return dict(self.combination(key)["steps"][0]["item"])

    # --- waiting for validation ---------------------------------------------------------

    def settled_soap(self, registration_id: int, party: Party | None = None) -> Presence | None:
        client = (party or self.main).soap
        deadline = time.monotonic() + self.validation_timeout
        while True:
            found = client.get(registration_id)
            if found is None or found.status != REGISTERED or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def settled_rest(self, registration_id: int) -> dict[str, Any]:
        deadline = time.monotonic() + self.validation_timeout
        while True:
            answer = self.main.rest.call("GET", f"/presenceRegistrations/{registration_id}")
            if answer.status_code != 200:
                return {"status": answer.status_code}
            shown: dict[str, Any] = answer.json()
            if shown["validity"] != "pending" or time.monotonic() > deadline:
                return shown
            time.sleep(0.2)


# --- how outcomes are written --------------------------------------------------------------


def expected_text(step: dict[str, Any]) -> str:
    expect = step["expect"]
    if expect["outcome"] == "refused":
        return f"refused {sorted(expect['errors'])}"
    remarks = sorted(expect["remarks"])
    if step["channel"] == "soap":
        return f"registered {'FAILED' if remarks else 'VALIDATED'} {remarks}"
    return f"created {'invalid' if remarks else 'valid'} {[rest_code(n) for n in remarks]}"


def soap_text(kit: Kit, presence: Presence, party: Party | None = None) -> str:
    if presence.errors:
        return f"refused {sorted(presence.errors)}"
    if presence.registration_id is None:
        return "no registration id"
    settled = kit.settled_soap(presence.registration_id, party)
    if settled is None:
        return "registered, then not found"
    return f"registered {settled.status} {sorted(settled.remarks)}"


def rest_text(kit: Kit, answer: dict[str, Any]) -> tuple[str, int | None]:
    if "notCreatedPresenceRegistration" in answer:
        codes = sorted(e["errorCode"] for e in answer["notCreatedPresenceRegistration"]["errorList"])
        return f"refused {codes}", None
    registration_id = int(answer["createdPresenceRegistration"]["id"])
    shown = kit.settled_rest(registration_id)
    if "validity" not in shown:
        return f"created, then HTTP {shown['status']}", registration_id
    codes = sorted((r["code"] for r in shown["remarks"]), key=remark_number)
    return f"created {shown['validity']} {codes}", registration_id


def fault_text(call: Callable[[], object]) -> str:
    try:
        call()
    except SoapFault as fault:
        return f"fault {fault.code}"
    return "no fault"


def problem_text(answer: requests.Response) -> str:
    try:
        kind = str(answer.json().get("type", ""))
    except ValueError:
        kind = "(not JSON)"
    return f"{answer.status_code} {kind.rsplit(':', 1)[-1]}"


# --- the data file's combinations ------------------------------------------------------------


def run_combination(kit: Kit, combination: dict[str, Any]) -> Check:
    expected, got, ids = [], [], []
    for step in combination["steps"]:
        expected.append(expected_text(step))
        if step["channel"] == "soap":
            (presence,) = kit.main.soap.register([step["item"]])
            got.append(soap_text(kit, presence))
            ids.append(presence.registration_id)
        else:
            text, registration_id = rest_text(kit, kit.main.rest.register([step["item"]])[0])
            got.append(text)
            ids.append(registration_id)
    kit.created[combination["key"]] = [i for i in ids if i is not None]
    return Check("; ".join(expected), "; ".join(got))


def data_scenarios(kit: Kit) -> Iterator[Scenario]:
    if kit.data is None:
        yield Scenario("sheet", "combinations of the data file", _skip("needs a data file (--data)"))
        return
    for section in ("clean", "remarks", "admissionErrors"):
        for combination in kit.data.get(section, []):
            yield Scenario(section, combination["key"], partial(run_combination, kit, combination))


def _skip(reason: str) -> Callable[[], Check]:
    def run() -> Check:
        raise Skip(reason)

    return run


# --- resends, duplicates, cancellation ----------------------------------------------------------


def resend_is_idempotent(kit: Kit) -> Check:
    item = kit.item("clean-construction-1")
    first = kit.main.soap.register([item])[0].registration_id
    again = kit.main.soap.register([item])[0].registration_id
    twice = [p.registration_id for p in kit.main.soap.register([item, item])]
    return Check(
        "one registration id for all four",
        "one registration id for all four" if {first, again, *twice} == {first} else f"ids {first}, {again}, {twice}",
    )


def duplicate_from_another_sender(kit: Kit) -> Check:
    if kit.second is None:
        raise Skip("needs a second enterprise client (--second-client-id, --second-certificate, --second-key)")
    item = kit.item("clean-construction-3")
    (ours,) = kit.main.soap.register([item])
    (theirs,) = kit.second.soap.register([item])
    got = [soap_text(kit, ours), soap_text(kit, theirs, kit.second)]
    if theirs.registration_id is not None:  # leave no other sender's registration behind
        kit.second.soap.cancel([(theirs.registration_id, "PLANNING")])
    return Check("registered VALIDATED []; registered FAILED [14]", "; ".join(got))


def cancel_codes(kit: Kit) -> Check:
    item = kit.item("clean-construction-2")
    (stored,) = kit.main.soap.register([item])
    if stored.registration_id is None:
        return Check("registered", f"refused {stored.errors}")
    wrong_reason = kit.main.soap.cancel([(stored.registration_id, "VACATION")])[0].errors
    (cancelled,) = kit.main.soap.cancel([(stored.registration_id, "PLANNING")])
    again = kit.main.soap.cancel([(stored.registration_id, "PLANNING")])[0].errors
    unknown = kit.main.soap.cancel([(UNKNOWN_ID, "HOLIDAY")])[0].errors
    (renewed,) = kit.main.soap.register([item])  # a cancelled presence may be registered again
    fresh = renewed.registration_id not in (None, stored.registration_id)
    got = f"11 {wrong_reason}, {cancelled.status}, 8 {again}, 7 {unknown}, new id {fresh}"
    return Check(f"11 [11], {CANCELLED}, 8 [8], 7 [7], new id True", got)


def cancel_from_data(kit: Kit, code: int) -> Check:
    if kit.data is None:
        raise Skip("needs a data file (--data)")
    entry = next((c for c in kit.data.get("cancellations", []) if c["code"] == code), None)
    if entry is None:
        raise Skip(f"the data file names no registration for code {code} (docs/sandbox.md says when there is one)")
    errors = kit.main.soap.cancel([(int(entry["registrationId"]), "PLANNING")])[0].errors
    return Check(f"refused [{code}]", f"refused {errors}" if errors else "cancelled")


def another_party_is_invisible(kit: Kit) -> Check:
    if kit.data is None:
        raise Skip("needs a data file (--data)")
    entry = next((c for c in kit.data.get("cancellations", []) if c["code"] == 7), None)
    if entry is None:
        raise Skip("the data file names no registration of another party")
    found = kit.main.soap.get(int(entry["registrationId"]))
    return Check("empty answer", "empty answer" if found is None else f"registration {found.registration_id}")


def cancel_across_services(kit: Kit) -> Check:
    cleaning = kit.created.get("clean-cleaning-builder-3")
    presence = kit.created.get("clean-construction-1")
    if not cleaning or not presence:
        raise Skip("needs the data file's clean-cleaning-builder-3 and clean-construction-1 (run with --data)")
    soap = kit.main.soap.cancel([(cleaning[0], "PLANNING")])[0].errors
    rest = kit.main.rest.call(
        "POST", "/presenceRegistrations/cancelInBulk", json={"items": [{"id": presence[0], "reason": "PLANNING"}]}
    )
    rest_errors = [
        e["errorCode"] for e in rest.json()["items"][0].get("notCancelledPresenceRegistration", {}).get("errorList", [])
    ]
    return Check("SOAP [10], REST [10]", f"SOAP {soap}, REST {rest_errors}")


def rest_cancel(kit: Kit) -> Check:
    ids = kit.created.get("clean-cleaning-builder-3")
    if not ids:
        raise Skip("needs the data file's clean-cleaning-builder-3 (run with --data)")
    # The OUT first, then its IN: the worker ends checked out, as the data file expects.
    items = [{"id": i, "reason": "PLANNING"} for i in reversed(ids)]
    answer = kit.main.rest.call("POST", "/presenceRegistrations/cancelInBulk", json={"items": items}).json()["items"]
    codes = [a.get("cancelledPresenceRegistration", {}).get("status", {}).get("code", "not cancelled") for a in answer]
    return Check(str(["cancelled"] * len(ids)), str(codes))


# --- paging and sorting ---------------------------------------------------------------------------


def soap_paging(kit: Kit) -> Check:
    start, end = today(), today() + timedelta(days=1)
    count, page = kit.main.soap.search(start, end, first_row=0, fetch_size=2)
    _, most = kit.main.soap.search(start, end, first_row=0, fetch_size=500)
    too_many = fault_text(lambda: kit.main.soap.search(start, end, fetch_size=501))
    negative = fault_text(lambda: kit.main.soap.search(start, end, first_row=-1, fetch_size=10))
    got = f"page {len(page) <= 2 and count >= len(page)}, 500 {len(most) <= 500}, 501 {too_many}, -1 {negative}"
    return Check("page True, 500 True, 501 fault SOA-03007, -1 fault SOA-03007", got)


def soap_sorting(kit: Kit) -> Check:
    """Sorted by ID, descending; by STATUS, each status in one run (the contract does not say
    in which order the statuses come)."""
    start, end = today(), today() + timedelta(days=1)
    _, descending = kit.main.soap.search(start, end, fetch_size=50, sort=("ID", "DESCENDING"))
    ids = [p.registration_id or 0 for p in descending]
    _, by_status = kit.main.soap.search(start, end, fetch_size=500, sort=("STATUS", "ASCENDING"))
    runs = [
        status
        for index, status in enumerate(p.status for p in by_status)
        if index == 0 or status != by_status[index - 1].status
    ]
    if len(ids) < 2:
        raise Skip("fewer than two registrations visible today: nothing to sort")
    got = f"ID DESCENDING {ids == sorted(ids, reverse=True)}, STATUS grouped {len(runs) == len(set(runs))}"
    return Check("ID DESCENDING True, STATUS grouped True", got)


def rest_paging(kit: Kit) -> Check:
    day = today().isoformat()
    criteria = {"criteria": {"registrationDate": {"startDate": day, "endDate": day}}}
    page = kit.main.rest.call("POST", "/presenceRegistrations/search?page=1&pageSize=2", json=criteria).json()
    desc = kit.main.rest.call(
        "POST", "/presenceRegistrations/search?pageSize=50", json=criteria | {"sort": {"field": "id", "order": "desc"}}
    ).json()
    too_big = kit.main.rest.call("POST", "/presenceRegistrations/search?pageSize=501", json=criteria)
    ids = [item["id"] for item in desc["items"]]
    got = (
        f"page {len(page['items']) <= 2 and page['total'] >= len(page['items'])}, "
        f"desc {ids == sorted(ids, reverse=True)}, 501 {problem_text(too_big)}"
    )
    return Check("page True, desc True, 501 400 badRequest", got)


# --- SOAP faults ------------------------------------------------------------------------------------


def soap_unsigned(kit: Kit) -> Check:
    return Check("fault SOA-01001", fault_text(lambda: kit.main.soap.register([kit_any_item(kit)], sign=False)))


def soap_expired_timestamp(kit: Kit) -> Check:
    old = timedelta(minutes=-10)
    return Check("fault SOA-01001", fault_text(lambda: kit.main.soap.register([kit_any_item(kit)], created_offset=old)))


def soap_201_items(kit: Kit) -> Check:
    return Check("fault SOA-03006", fault_text(lambda: kit.main.soap.register([kit_any_item(kit)] * 201)))


def soap_not_soap(kit: Kit) -> Check:
    data = kit.main.soap.envelope(M.RegisterPresencesRequest(presence_item(kit_any_item(kit))))
    response = kit.main.soap.post("registerPresences", data, content_type="application/json")
    return Check("fault SOA-03002", fault_text(lambda: _raise_fault(response)))


def soap_malformed(kit: Kit) -> Check:
    response = kit.main.soap.post("registerPresences", b"<soapenv:Envelope")
    return Check("fault SOA-03001", fault_text(lambda: _raise_fault(response)))


def soap_consult_only_registers(kit: Kit) -> Check:
    if kit.consult is None:
        raise Skip("needs a consult-only client (--consult-client-id, --consult-certificate, --consult-key)")
    consult = kit.consult
    return Check("fault SOA-01002", fault_text(lambda: consult.soap.register([kit_any_item(kit)])))


def kit_any_item(kit: Kit) -> dict[str, Any]:
    """A well-formed item; with a data file, the first clean one."""
    if kit.data is not None:
        return kit.item("clean-construction-1")
    return {"INSS": "85073003328", "CompanyID": "0448181966", "WorkPlaceId": "1Y1000NF9KCQZ"}


def _raise_fault(response: requests.Response) -> None:
    read_answer(response)


# --- REST errors --------------------------------------------------------------------------------------


def rest_no_token(kit: Kit) -> Check:
    answer = requests.get(f"{kit.main.rest.base_url}/refData/remarks", timeout=kit.main.rest.timeout)
    return Check("401 noAccessToken", problem_text(answer))


def rest_bad_token(kit: Kit) -> Check:
    answer = requests.get(
        f"{kit.main.rest.base_url}/refData/remarks",
        headers={"Authorization": "Bearer not-a-token"},
        timeout=kit.main.rest.timeout,
    )
    return Check("401 invalidAccessToken", problem_text(answer))


def rest_wrong_key(kit: Kit) -> Check:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    answer = kit.main.rest.request_token(key_pem=pem)
    body = answer.json() if answer.headers.get("Content-Type", "").endswith("json") else {}
    return Check("400 invalid_client", f"{answer.status_code} {body.get('error', '')}")


def rest_missing_scope(kit: Kit) -> Check:
    if kit.consult is None:
        raise Skip("needs a consult-only client (--consult-client-id, --consult-certificate, --consult-key)")
    answer = kit.consult.rest.call("POST", "/presenceRegistrations/registerInBulk", json={"items": [_any_event(kit)]})
    return Check("403 missingScope", problem_text(answer))


def _any_event(kit: Kit) -> dict[str, Any]:
    return event_item(kit.combination("clean-cleaning-builder-1")["steps"][0]["item"])


def rest_unknown_id(kit: Kit) -> Check:
    return Check(
        "404 resourceNotFound", problem_text(kit.main.rest.call("GET", f"/presenceRegistrations/{UNKNOWN_ID}"))
    )


def rest_unknown_url(kit: Kit) -> Check:
    return Check("404 resourceNotFound", problem_text(kit.main.rest.call("GET", "/noSuchResource")))


def rest_too_large(kit: Kit) -> Check:
    body = b'{"items": [' + b" " * (1024 * 1024 + 1) + b"]}"
    answer = kit.main.rest.call(
        "POST", "/presenceRegistrations/registerInBulk", data=body, headers={"Content-Type": "application/json"}
    )
    return Check("413 payloadTooLarge", problem_text(answer))


def rest_not_json(kit: Kit) -> Check:
    answer = kit.main.rest.call(
        "POST", "/presenceRegistrations/registerInBulk", data=b"items", headers={"Content-Type": "text/plain"}
    )
    return Check("415 blank", problem_text(answer))


def rest_bad_request(kit: Kit) -> Check:
    answer = kit.main.rest.call("POST", "/presenceRegistrations/registerInBulk", json={"items": [], "extra": 1})
    issues = answer.json().get("issues") if answer.status_code == 400 else None
    return Check("400 badRequest, issues True", f"{problem_text(answer)}, issues {bool(issues)}")


def rest_too_many_token_requests(kit: Kit) -> Check:
    if not kit.rate_limit:
        raise Skip("provoking 429 spends this client's token budget for a minute: run with --rate-limit to include it")
    for _ in range(1000):
        answer = kit.main.rest.request_token()
        if answer.status_code != 200:
            retry = answer.headers.get("Retry-After", "").isdigit()
            return Check("429 tooManyRequests, Retry-After True", f"{problem_text(answer)}, Retry-After {retry}")
    return Check("429 tooManyRequests, Retry-After True", "no 429 after 1000 token requests")


def catalogue(kit: Kit) -> list[Scenario]:
    """Every scenario in the order they run: the data file's combinations first (they create
    what the others use), the rate limit last (it spends the client's budget)."""
    fixed: list[tuple[str, str, Callable[[Kit], Check]]] = [
        ("resend", "a resend by the same sender answers the stored registration", resend_is_idempotent),
        ("duplicates", "the same presence from two senders: the later gets remark 14", duplicate_from_another_sender),
        ("cancel", "codes 11, 8, 7 and a new registration after cancelling", cancel_codes),
        ("cancel", "code 1: visible but not yours to cancel", lambda k: cancel_from_data(k, 1)),
        ("cancel", "code 7: another party's registration", lambda k: cancel_from_data(k, 7)),
        ("cancel", "code 9: dated before today", lambda k: cancel_from_data(k, 9)),
        ("cancel", "code 10: each service cancels only its own sectors", cancel_across_services),
        ("cancel", "REST cancelInBulk cancels an OUT and its IN", rest_cancel),
        ("visibility", "another party's registration reads as unknown", another_party_is_invisible),
        ("paging", "SOAP searchPresences paging limits", soap_paging),
        ("paging", "SOAP searchPresences sorting", soap_sorting),
        ("paging", "REST search paging and sorting", rest_paging),
        ("soap-faults", "unsigned call", soap_unsigned),
        ("soap-faults", "expired WS-Security timestamp", soap_expired_timestamp),
        ("soap-faults", "201 items", soap_201_items),
        ("soap-faults", "not SOAP (wrong Content-Type)", soap_not_soap),
        ("soap-faults", "not well-formed XML", soap_malformed),
        ("soap-faults", "a consult-only client registers", soap_consult_only_registers),
        ("rest-errors", "no access token", rest_no_token),
        ("rest-errors", "unknown access token", rest_bad_token),
        ("rest-errors", "token request signed with another key", rest_wrong_key),
        ("rest-errors", "a consult-only client registers", rest_missing_scope),
        ("rest-errors", "unknown registration id", rest_unknown_id),
        ("rest-errors", "unknown URL", rest_unknown_url),
        ("rest-errors", "body over the size limit", rest_too_large),
        ("rest-errors", "body that is not JSON", rest_not_json),
        ("rest-errors", "unknown property", rest_bad_request),
        ("rest-errors", "too many token requests", rest_too_many_token_requests),
    ]
    scenarios = list(data_scenarios(kit))
    scenarios += [Scenario(group, name, partial(run, kit)) for group, name, run in fixed]
    return scenarios
