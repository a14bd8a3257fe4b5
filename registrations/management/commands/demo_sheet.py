import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registrations.domain.remarks import REMARKS
from registrations.selectors.demo_sheet import ClientSheet, Combination, Expect, Step, demo_sheet, sheet_json

_DATE_RULES = (
    "Dates are rules, resolved when you send: today / tomorrow / today+2 are dates in Europe/Brussels\n"
    "(SOAP RegistrationDate); now, now-15min, now+5min are the moment of a cleaning event (REST\n"
    "registrationDate, with its offset). SOAP items are registerPresences items, REST items registerInBulk\n"
    "items. 'registered -> VALIDATED' means stored, then validated without remark (REST: validity valid)."
)


class Command(BaseCommand):
    help = "Print, from this database, what each demo client can send and what it gets back (docs/sandbox.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="the sheet as JSON: the data file of `conformance`")

    def handle(self, *args: Any, **options: Any) -> None:
        sheets = demo_sheet()
        if options["json"]:
            self.stdout.write(json.dumps(sheet_json(sheets), indent=2, ensure_ascii=False))
            return
        if not sheets:
            self.stdout.write("No demo client in DEMO_CREDENTIALS_DIR: load the demo with `manage.py seed_demo` first.")
            return
        self.stdout.write(_DATE_RULES)
        for sheet in sheets:
            self.stdout.write("\n".join(_client_lines(sheet)))


def _client_lines(sheet: ClientSheet) -> list[str]:
    lines = [
        "",
        f"=== {sheet.name}: {sheet.role} client of enterprise {sheet.enterprise_number}",
        f"    credentials: {sheet.files}.client-id, {sheet.files}.key.pem, {sheet.files}.cert.pem "
        "in DEMO_CREDENTIALS_DIR",
    ]
    if not sheet.may_register:
        lines.append(
            "    consults everything (every read is recorded in the registration's history); may not register or "
            "cancel: SOAP fault SOA-01002, REST 403 missingScope"
        )
        return lines
    if not sheet.clean:
        lines.append("    nothing to show: no construction site and no employee of this enterprise in this database")
        return lines
    sections = [
        ("Validates cleanly", sheet.clean),
        ("One combination per remark", sheet.remarks),
        ("Refused at admission (nothing stored)", sheet.admission_errors),
    ]
    for title, combinations in sections:
        lines += ["", f"--- {title}"]
        for combination in combinations:
            lines += _combination_lines(combination)
    if sheet.missing_remarks:
        lines.append(f"  not available in this database: remarks {', '.join(map(str, sheet.missing_remarks))}")
    lines += ["", "--- Cancellation (ids in `demo_sheet --json`)"]
    lines += [f"  code {c.code}: {c.title}" for c in sheet.cancellations]
    shown = {c.code for c in sheet.cancellations}
    if 1 not in shown or 7 not in shown:
        lines.append(f"  not available in this database: codes {', '.join(str(c) for c in (1, 7) if c not in shown)}")
    if 9 not in shown:
        lines.append("  code 9 (one of yours dated before today): none yet; the demo's own qualify from the next day")
    lines += _site_lines(sheet.cleaning_site)
    return lines


def _combination_lines(combination: Combination) -> list[str]:
    lines = [f"  [{combination.key}] {combination.sector}: {combination.title}"]
    for step in combination.steps:
        lines.append(f"    {_item_text(step)}")
        lines.append(f"      -> {_expect_text(step)}")
    return lines


def _item_text(step: Step) -> str:
    item = step.item
    if step.channel == "soap":
        return "SOAP " + " ".join(f"{name}={value}" for name, value in item.items())
    employer = item["employer"]
    place = item["placeOfWork"]["coordinates"]
    parts = [
        f"REST {item['type'].upper()} at {item['registrationDate']}",
        f"ssin={item['ssin']}",
        "employer=" + "/".join(f"{name}:{value}" for name, value in employer.items()),
        f"contractualRelationshipReference={item['contractualRelationshipReference']}",
        f"coordinates={place['latitude']},{place['longitude']}",
    ]
    if "activity" in item:
        parts.append(f"activity={item['activity']}")
    return " ".join(parts)


def _expect_text(step: Step) -> str:
    expect: Expect = step.expect
    if expect.outcome == "refused":
        return f"refused: error {', '.join(map(str, expect.errors))}"
    if not expect.remarks:
        return "registered -> VALIDATED" if step.channel == "soap" else "created -> valid"
    if step.channel == "soap":
        return "registered -> FAILED: " + "; ".join(f"{n} {REMARKS[n].text}" for n in expect.remarks)
    return "created -> invalid: " + ", ".join(REMARKS[n].rest_code for n in expect.remarks)


def _site_lines(site: dict[str, Any] | None) -> list[str]:
    if site is None:
        return []
    centre, outside = site["coordinates"], site["outsideRadius"]
    lines = [
        "",
        "--- Your cleaning site",
        f"  {site['contractualRelationshipReference']}: {site['address']}",
        f"  coordinates {centre['latitude']},{centre['longitude']}, radius {site['radiusMeters']} m; "
        f"{outside['latitude']},{outside['longitude']} is outside it (remark 18)",
    ]
    nearby = site["nearbyAddress"]
    if nearby:
        lines.append(
            f"  nearby address: {nearby['streetName']} {nearby['houseNumber']}, {nearby['postCode']} "
            f"({nearby['distanceMeters']} m; POST /placesOfWork/addresses with the coordinates lists it)"
        )
    return lines
