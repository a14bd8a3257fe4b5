"""CSV that a spreadsheet opens as text, never as a formula (OWASP "CSV injection").

A cell starting with `=`, `+`, `-` or `@` is run as a formula by Excel, LibreOffice and
Google Sheets; a leading tab or carriage return is dropped by some of them, which then see
the formula behind it. Such a cell gets a leading apostrophe: spreadsheets show the text as
it is, and a program reading the file sees one extra character it can strip.

A cell that is a plain number (`-12`, `-3.5`) is left as it is, so a negative number stays
a number; `-2+3` is not a plain number and is neutralised. defusedcsv (pretix's library)
does the same for `= + - @` but not for a leading tab or carriage return, and rewrites `|`
inside the text, which is why this module exists.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class _TextSink(Protocol):
    def write(self, text: str, /) -> Any: ...


def spreadsheet_cell(value: object) -> object:
    """The value to write: numbers as they are, text with a formula start neutralised."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class SpreadsheetCsvWriter:
    """`csv.writer` whose every cell goes through `spreadsheet_cell`."""

    def __init__(self, out: _TextSink, **format_options: Any) -> None:
        self._writer = csv.writer(out, **format_options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([spreadsheet_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)
