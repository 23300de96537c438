"""Comments kept in a spreadsheet: .xlsx (openpyxl, read-only) and .csv (UTF-8, "," or ";").

The columns are found by their headings (the template's eight, by the names ``headings`` knows),
in any order, on any of the first ``HEADING_ROWS`` rows; columns under other headings are
ignored and named in the notes. Rows are numbered as the spreadsheet numbers them, so "row 7"
is the row a person finds at 7 in Excel. A formula cell is refused, whatever it computes:
a comment is text someone wrote, and a cached value may be stale or absent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from services.documents.reader.headings import CHANGE, CLAUSE, COMMENT, ELEMENT, ID, LINE, MB, OBS, TYPE, _heading_field
from services.documents.reader.tables import RawRow
from services.documents.safety import UploadLimits, UploadRejected, check_workbook

__all__ = ["HEADING_ROWS", "MAX_SHEET_ROWS", "SheetRead", "read_csv", "read_xlsx"]

HEADING_ROWS = 10
# Well above the API's cap on one body's comments, so that cap (not this one) names the problem;
# this one only stops a sheet of a million empty-looking rows from being read to its end.
MAX_SHEET_ROWS = 50_000
NO_HEADINGS = (
    "No heading row was found in the first 10 rows: the sheet needs the template's column headings "
    "(at least “Comments”; also MB/NC, Line number, Clause/Subclause, Paragraph/Figure/Table/, "
    "Type of comment, Proposed change, Observations of the secretariat)."
)
NOT_UTF8 = "This CSV file is not UTF-8 text; save it as “CSV UTF-8” and upload that."


class SheetRead:
    """The data rows found and what was noticed on the way (ignored columns)."""

    def __init__(self, rows: list[RawRow], notes: list[str], problems: list[tuple[int, str]]) -> None:
        self.rows = rows
        self.notes = notes
        self.problems = problems


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a line number typed as 17 is stored as 17.0
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _columns(cells: Sequence[str]) -> tuple[dict[str, int], list[str]] | None:
    """Field → column index of a heading row, and the headings ignored; None if not one."""
    fields: dict[str, int] = {}
    ignored: list[str] = []
    for i, text in enumerate(cells):
        if not text:
            continue
        field = _heading_field(text)
        if field is None or field in fields:
            ignored.append(" ".join(text.split()))
            continue
        fields[field] = i
    if COMMENT not in fields or len(fields) < 3:
        return None
    return fields, ignored


def _read(rows: Iterable[tuple[int, list[str], list[int]]], no_headings: str = NO_HEADINGS) -> SheetRead:
    """``rows``: (sheet row number, cell texts, indexes of formula cells)."""
    iterator = iter(rows)
    found: tuple[dict[str, int], list[str]] | None = None
    for number, cells, _ in iterator:
        found = _columns(cells)
        if found is not None or number >= HEADING_ROWS:
            break
    if found is None:
        raise UploadRejected(no_headings)
    fields, ignored = found
    notes = [f"Columns ignored (not in the template): {', '.join(ignored)}."] if ignored else []
    out: list[RawRow] = []
    problems: list[tuple[int, str]] = []
    wanted = set(fields.values())

    def cell(cells: list[str], field: str) -> str:
        i = fields.get(field)
        return cells[i] if i is not None and i < len(cells) else ""

    for number, cells, formulas in iterator:
        if number > MAX_SHEET_ROWS:
            raise UploadRejected(f"The sheet has more than {MAX_SHEET_ROWS:,} rows; split it or remove empty rows.")
        if not any(cells[i] for i in wanted if i < len(cells)):
            continue
        if any(i in wanted for i in formulas):
            problems.append(
                (
                    number,
                    f"Row {number} holds a formula; paste the cells as values (comments are text) and upload again.",
                )
            )
        out.append(
            RawRow(
                table=1,
                row=number,
                mb=cell(cells, MB),
                line=cell(cells, LINE),
                clause=cell(cells, CLAUSE),
                element=cell(cells, ELEMENT),
                type=cell(cells, TYPE),
                comment=cell(cells, COMMENT),
                proposed_change=cell(cells, CHANGE),
                observation=cell(cells, OBS),
                extra_id=cell(cells, ID),
            )
        )
    return SheetRead(out, notes, problems)


def read_xlsx(data: bytes, limits: UploadLimits | None = None) -> SheetRead:
    """The first worksheet's comments; the package passes the .docx reader's zip checks first."""
    check_workbook(data, limits)
    import openpyxl  # only uploads need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # anything openpyxl raises means: not a usable workbook
        raise UploadRejected("This Excel file is damaged or not an .xlsx workbook.") from exc
    try:
        sheet = workbook.worksheets[0]

        def rows() -> Iterator[tuple[int, list[str], list[int]]]:
            for number, row in enumerate(sheet.iter_rows(), start=1):
                texts = [_text(c.value) for c in row]
                formulas = [i for i, c in enumerate(row) if getattr(c, "data_type", "") == "f"]
                yield number, texts, formulas

        return _read(rows())
    finally:
        workbook.close()


_FORMULA_STARTS = ("=", "+", "-", "@")


def _unneutralised(value: str) -> str:
    """Our CSV download writes ``'=…`` for a text that opens like a formula; read it back as written."""
    return value[1:] if value[:1] == "'" and value[1:2] in _FORMULA_STARTS else value


def read_csv(data: bytes) -> SheetRead:
    """UTF-8 with or without a byte-order mark; "," or ";" between fields (whichever the heading
    row uses more)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadRejected(NOT_UTF8) from exc
    first = text.split("\n", HEADING_ROWS)[:HEADING_ROWS]
    delimiter = ";" if sum(line.count(";") for line in first) > sum(line.count(",") for line in first) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str], list[int]]]:
        for number, row in enumerate(reader, start=1):
            yield number, [_unneutralised(_text(v)) for v in row], []

    try:
        # Any text that is no other format is tried as CSV: say what else it could have been.
        return _read(
            rows(),
            f"This is not a Word .docx file, and as a CSV spreadsheet: {NO_HEADINGS[:1].lower()}{NO_HEADINGS[1:]}",
        )
    except csv.Error as exc:
        raise UploadRejected(f"This CSV file could not be read: {exc}.") from exc
