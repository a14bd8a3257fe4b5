import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from registrations.registers.address_import import AddressFileError, import_addresses


class Command(BaseCommand):
    help = "Import the Belgian open address data (BeST flat CSV, docs/addresses.md), streamed and upserted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--progress", action="store_true", help="show the progress bar even without a terminal")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            size = path.stat().st_size
            handle = path.open("rb")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        show = options["progress"] or sys.stderr.isatty()
        with handle, tqdm(total=size, unit="B", unit_scale=True, disable=not show, desc=path.name) as bar:
            try:
                report = import_addresses(handle, progress=bar.update)
            except AddressFileError as exc:
                raise CommandError(f"{path}: {exc}") from exc
        for problem in report.problems:
            self.stderr.write(problem)
        if report.bad_rows > len(report.problems):
            self.stderr.write(f"... and {report.bad_rows - len(report.problems)} more bad rows")
        self.stdout.write(
            f"{report.imported} addresses upserted, {report.bad_rows} bad rows skipped, "
            f"{report.skipped_not_current} not current"
        )
