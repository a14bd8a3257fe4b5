"""The inspection snapshot as CSV and PDF (reportlab). Rendering only: no query, no write."""

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from registrations.domain.vocabulary import Sector
from registrations.selectors.inspection import Snapshot, SnapshotRow
from rest_gateway.spreadsheet_csv import SpreadsheetCsvWriter

CSV_HEADER = [
    "registration_id",
    "sector",
    "ssin",
    "limosa_id",
    "given_name",
    "family_name",
    "employer",
    "on_site_since",
    "status",
    "validity",
    "remarks",
]


def _since(row: SnapshotRow) -> str:
    return timezone.localtime(row.on_site_since).isoformat(timespec="minutes") if row.on_site_since else ""


def _csv_values(row: SnapshotRow) -> list[Any]:
    return [
        row.registration_id,
        Sector(row.sector).name.lower(),
        row.niss,
        row.limosa_id,
        row.given_name,
        row.family_name,
        row.employer,
        _since(row),
        row.status,
        row.validity,
        " ".join(str(number) for number in row.remarks),
    ]


def snapshot_csv(snapshot: Snapshot) -> str:
    """One header line, then one line per row; remarks as space-separated numbers. A cell
    that a spreadsheet would run as a formula (a name starting with `=`...) is written with
    a leading apostrophe (rest_gateway/spreadsheet_csv.py)."""
    out = io.StringIO()
    writer = SpreadsheetCsvWriter(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_csv_values(row) for row in snapshot.rows)
    return out.getvalue()


def _pdf_table(snapshot: Snapshot) -> Table:
    header = ["Id", "Person", "Name", "Employer", "On site since", "Status", "Remarks"]
    body = [
        [
            str(row.registration_id),
            row.niss or f"Limosa {row.limosa_id}",
            f"{row.family_name} {row.given_name}".strip(),
            row.employer,
            _since(row),
            row.status,
            ", ".join(str(number) for number in row.remarks),
        ]
        for row in snapshot.rows
    ]
    table = Table([header, *body], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7ef")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ]
        )
    )
    return table


def snapshot_pdf(snapshot: Snapshot) -> bytes:
    """An A4 landscape report: title, when it was taken, the table."""
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    document = SimpleDocTemplate(out, pagesize=landscape(A4), title=f"Workplace {snapshot.workplace_id}")
    taken = timezone.localtime(snapshot.taken_at).strftime("%Y-%m-%d %H:%M")
    story = [
        Paragraph(f"Workplace {escape(snapshot.workplace_id)} on {snapshot.day.isoformat()}", styles["Title"]),
        Paragraph(
            f"Inspection snapshot taken {taken} (Europe/Brussels); {len(snapshot.rows)} person(s)", styles["Normal"]
        ),
        Spacer(1, 12),
        _pdf_table(snapshot),
    ]
    document.build(story)
    return out.getvalue()
