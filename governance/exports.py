"""The one CSV writer of every export: cells a spreadsheet shows as text, never runs.

A cell that begins with = + - @ (or a tab or CR, which some spreadsheets skip before one) is
read as a formula: `=HYPERLINK(...)` in a member's self-edited name would reach whoever opens
the published minutes. Such a cell gets a leading apostrophe, the mark spreadsheets hide and
read as "text"; numbers (-3, +1.5) are left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell's text, neutralised when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower().lstrip("+-") not in ("inf", "infinity", "nan")


class SafeWriter:
    """csv.writer whose every cell goes through safe_cell."""

    def __init__(self, out):
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """A whole CSV document as text."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Iterable[object]]) -> HttpResponse:
    """A CSV download named `filename` (a name the portal makes, never one a person typed)."""
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
