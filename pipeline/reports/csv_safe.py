"""CSV meant for spreadsheets, with no cell a spreadsheet would run as a formula.

Candidate references and file names are typed by users: written verbatim, `=HYPERLINK(...)`
becomes a live formula in Excel or LibreOffice (CSV injection). Every CSV export goes through
`writer`, which prefixes a text cell starting with `= + - @`, a tab or a carriage return with
an apostrophe, so the spreadsheet shows it as text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """The cell as a spreadsheet should show it: text starting like a formula gets a leading `'`."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class SafeWriter:
    """`csv.writer` whose rows are neutralised cell by cell (numbers are left as they are)."""

    def __init__(self, f: TextIO, **fmt: Any) -> None:
        self._writer = csv.writer(f, **fmt)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(f: TextIO, **fmt: Any) -> SafeWriter:
    return SafeWriter(f, **fmt)
