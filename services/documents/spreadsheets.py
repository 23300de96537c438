"""Comments as CSV and XLSX, for committees that work in spreadsheets.

Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start) are
prefixed with an apostrophe: comment text comes from outside and must stay text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import xlsxwriter

from schemas.comments import CompiledRow

HEADINGS = (
    "MB/NC",
    "Reference",
    "Line number",
    "Clause/Subclause",
    "Paragraph/Figure/Table/Note",
    "Type of comment",
    "Comments",
    "Proposed change",
    "Observations of the secretariat",
    "Disposition",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _records(rows: Sequence[CompiledRow]) -> list[list[str]]:
    """Rows as produced by `collation.table_rows`, flattened to the exported columns."""
    out = []
    for r in rows:
        values = [
            r.body, r.reference, r.line, r.clause, r.element, r.shown_type, r.comment, r.proposed_change,
            r.observation, r.disposition or "",
        ]  # fmt: skip
        out.append([neutralise(str(v)) for v in values])
    return out


def to_csv(rows: Sequence[CompiledRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADINGS)
    writer.writerows(_records(rows))
    # A byte-order mark so that Excel reads the file as UTF-8 (accents in names and comments).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[CompiledRow], title: str) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("Comments")
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDDDDD"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    widths = (8, 10, 8, 12, 14, 8, 60, 50, 50, 18)
    for column, (heading, width) in enumerate(zip(HEADINGS, widths, strict=True)):
        sheet.write_string(0, column, heading, bold)
        sheet.set_column(column, column, width)
    for r, record in enumerate(_records(rows), start=1):
        for c, value in enumerate(record):
            sheet.write_string(r, c, value, wrap)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(HEADINGS) - 1)
    workbook.set_properties({"title": title})
    workbook.close()
    return buffer.getvalue()
