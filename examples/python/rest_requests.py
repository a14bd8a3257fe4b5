"""The cleaning REST API with requests: a token by client assertion (private_key_jwt), a
check-in and a check-out, search, history, performances and the addresses near a point.

    python examples/python/rest_requests.py --base-url http://127.0.0.1:8000 \
        --credentials-dir var/demo --sheet sheet.json

`sheet.json` is `manage.py demo_sheet --json`: the worker, the employer and the cleaning site
come from it. Every option also reads an environment variable (PRESENCE_BASE_URL,
DEMO_CREDENTIALS_DIR, DEMO_SHEET). The script prints what it does and exits with 1 on any
answer the sheet does not promise. Needs requests and PyJWT[crypto].
"""

import argparse
import json
import os
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import requests

BRUSSELS = ZoneInfo("Europe/Brussels")
API = "/REST/presenceRegistration/v1"
TOKEN = "/REST/oauth/v5/token"  # noqa: S105 - a URL path, not a secret


class UnexpectedAnswer(Exception):  # noqa: N818 - what the script reports
    pass


def expect(condition: bool, what: str) -> None:
    print(("  ok: " if condition else "  UNEXPECTED: ") + what)
    if not condition:
        raise UnexpectedAnswer(what)


def get_token(base_url: str, client_id: str, private_key: str) -> str:
    """OAuth 2.0 client credentials; the client proves who it is with a JWT it signs (RS256).
    `aud` is the token URL exactly as called; `jti` is fresh for every request."""
    token_url = base_url + TOKEN
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    answer = requests.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": jwt.encode(claims, private_key, algorithm="RS256"),
        },
        timeout=10,
    )
    expect(answer.status_code == 200, f"token: HTTP {answer.status_code}, scope {answer.json().get('scope')}")
    # {"access_token": "...", "token_type": "Bearer", "expires_in": 600, "scope": "..."}: ask again after 10 minutes.
    return str(answer.json()["access_token"])


def event(found: dict[str, Any], kind: str) -> dict[str, Any]:
    """The sheet's check-in, as this type, at this moment (with its offset: required)."""
    step = next(s for s in found["steps"] if s["item"]["type"] == kind)
    return dict(step["item"], registrationDate=datetime.now(BRUSSELS).replace(microsecond=0).isoformat())


def created_id(entry: dict[str, Any], what: str) -> int:
    created = entry.get("createdPresenceRegistration")
    refused = entry.get("notCreatedPresenceRegistration", {}).get("errorList")
    expect(created is not None, f"{what} stored as {created['id']}" if created else f"{what} refused: {refused}")
    return int(created["id"]) if created else 0


def settled(http: requests.Session, base: str, registration_id: int) -> dict[str, Any]:
    """GET the registration until its validity is no longer "pending"."""
    for _ in range(100):
        shown: dict[str, Any] = http.get(f"{base}/presenceRegistrations/{registration_id}", timeout=10).json()
        if shown["validity"] != "pending":
            return shown
        time.sleep(0.3)
    raise UnexpectedAnswer(f"registration {registration_id} still pending")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("PRESENCE_BASE_URL", "http://127.0.0.1:8000"))
    parser.add_argument(
        "--credentials-dir", type=Path, default=Path(os.environ.get("DEMO_CREDENTIALS_DIR", "var/demo"))
    )
    parser.add_argument(
        "--sheet", type=Path, default=os.environ.get("DEMO_SHEET"), required="DEMO_SHEET" not in os.environ
    )
    parser.add_argument("--pick", type=int, default=1, help="which clean cleaning combination (1, 2, 3): one per run")
    args = parser.parse_args()
    client = next(c for c in json.loads(args.sheet.read_text())["clients"] if c["mayRegister"])
    found = next(c for c in client["clean"] if c["key"] == f"clean-cleaning-builder-{args.pick}")
    keys = args.credentials_dir
    client_id = (keys / "enterprise.client-id").read_text().strip()
    base = args.base_url + API

    http = requests.Session()
    print("POST /REST/oauth/v5/token with a client assertion")
    http.headers["Authorization"] = (
        f"Bearer {get_token(args.base_url, client_id, (keys / 'enterprise.key.pem').read_text())}"
    )

    print("registerInBulk: the worker checks in")
    check_in = event(found, "in")
    answer = http.post(f"{base}/presenceRegistrations/registerInBulk", json={"items": [check_in]}, timeout=10)
    # One entry per item: {"createdPresenceRegistration": {...}} or {"notCreatedPresenceRegistration":
    # {"errorList": [{"errorCode", "errorDescription"}]}}; structural errors are a 400 problem.
    in_id = created_id(answer.json()["items"][0], "IN")
    shown = settled(http, base, in_id)
    expect(shown["validity"] == "valid" and shown["remarks"] == [], f"IN {in_id} is {shown['validity']}")

    print("registerInBulk: the worker checks out")
    answer = http.post(
        f"{base}/presenceRegistrations/registerInBulk", json={"items": [event(found, "out")]}, timeout=10
    )
    out_id = created_id(answer.json()["items"][0], "OUT")

    print("search: by person, in the body (a NISS never travels in a URL)")
    today = datetime.now(BRUSSELS).date().isoformat()
    criteria = {"registrationDate": {"startDate": today, "endDate": today}, "ssin": check_in["ssin"]}
    result = http.post(
        f"{base}/presenceRegistrations/search?pageSize=50", json={"criteria": criteria}, timeout=10
    ).json()
    ids = [item["id"] for item in result["items"]]
    expect({in_id, out_id} <= set(ids), f"{result['total']} found, the IN and the OUT among them")

    print("history of the OUT")
    history = http.get(f"{base}/presenceRegistrations/{out_id}/history", timeout=10).json()["items"]
    expect(history[0]["type"] == "registration.created", f"events {[e['type'] for e in history]}")

    print("performances: the IN and OUT paired")
    site = check_in["contractualRelationshipReference"]
    params = {"startDate": today, "endDate": today, "contractualRelationshipReference": site}
    performances = http.get(f"{args.base_url}{API}/performances", params=params, timeout=10).json()["items"]
    closed = [p for p in performances if any(period["outRegistrationId"] == out_id for period in p["periods"])]
    expect(len(closed) == 1 and not closed[0]["open"], f"worked {closed[0]['workedTime'] if closed else None}")

    print("addresses near the cleaning site")
    place = client["cleaningSite"]
    near = http.post(f"{base}/placesOfWork/addresses", json={"coordinates": place["coordinates"]}, timeout=10).json()
    numbers = [(a["address"]["postCode"], a["address"]["houseNumber"]) for a in near["items"]]
    promised = (place["nearbyAddress"]["postCode"], place["nearbyAddress"]["houseNumber"])
    expect(promised in numbers, f"{len(numbers)} addresses, {place['nearbyAddress']['streetName']} among them")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (UnexpectedAnswer, requests.RequestException, KeyError) as problem:
        print(f"FAILED: {problem!r}", file=sys.stderr)
        sys.exit(1)
