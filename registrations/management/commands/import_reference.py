import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registrations.registers.reference_import import ReferenceImportError, reference_import


class Command(BaseCommand):
    help = "Import reference registers from a JSON file (docs/reference-data.md); all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: byte {exc.start}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path} is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
        try:
            report = reference_import(data)
        except ReferenceImportError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(f"{path}: {exc}") from exc
        for section, count in report.counts.items():
            if count:
                self.stdout.write(f"{section}: {count} upserted")
        self.stdout.write("done")
