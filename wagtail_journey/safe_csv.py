"""The one CSV writer of the package: cells cannot become spreadsheet formulas.

Exports hold what visitors typed (names, form answers, UTM values). A cell
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a
formula by Excel, LibreOffice and Google Sheets when an editor opens the file
("CSV injection": ``=HYPERLINK(...)`` exfiltrating data, DDE commands). Every
CSV the package writes goes through :func:`writer` or :class:`DictWriter`,
which prefix such text cells with an apostrophe (OWASP's advice): the cell
shows the text as typed and is never evaluated. Numbers stay numbers, and a
text cell holding just a number (``-5``, ``+3.2``) is left alone.

Admin exports (Wagtail's ``list_export``) use it through
:class:`wagtail_journey.admin.exports.FormulaSafeExportMixin`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import Any

#: First characters that make a spreadsheet evaluate a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value: Any) -> Any:
    """``value``, with text that a spreadsheet would evaluate made inert."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.match(value)
    ):
        return "'" + value
    return value


class _SafeWriter:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, file, **kwargs):
        self._writer = csv.writer(file, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file, **kwargs) -> _SafeWriter:
    """Like :func:`csv.writer`, formula-safe."""
    return _SafeWriter(file, **kwargs)


class DictWriter(csv.DictWriter):
    """Like :class:`csv.DictWriter`, formula-safe (the header row too)."""

    def writeheader(self):
        return self.writerow(dict(zip(self.fieldnames, self.fieldnames, strict=True)))

    def writerow(self, rowdict: Mapping[str, Any]):
        return super().writerow({key: safe_cell(value) for key, value in rowdict.items()})
