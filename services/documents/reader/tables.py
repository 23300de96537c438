"""Finding the comment tables of a document (layout detection) and reading their data rows."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.documents.reader.cells import _first_line, parse_type
from services.documents.reader.grid import W_TBL, _Cell, _has_iso_styles, _is_nested, _table_cells
from services.documents.reader.headings import (
    _LAYOUTS,
    CHANGE,
    CLAUSE,
    COMMENT,
    ELEMENT,
    ID,
    LAYOUT_9,
    LINE,
    MB,
    OBS,
    TYPE,
    _header_has_headings,
    _heading_fields,
)

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument


@dataclass(frozen=True)
class RawRow:
    """One data row of a comment table, as text (cell paragraphs joined with ``"\\n"``).

    ``table``: 1-based index of the table among the comment tables found. ``row``: see the package
    docstring. Fields a layout does not have (the line number in the 2001-09 layout) are ``""``.
    ``extra_id``: the text of an extra ID column (the nine-column layout of hand-edited
    collations), else ``""``.
    """

    table: int
    row: int
    mb: str
    line: str
    clause: str
    element: str
    type: str
    comment: str
    proposed_change: str
    observation: str
    extra_id: str = ""


_LOOKS_LIKE_MB = re.compile(r"^(\*\*|[A-Za-z])")


@dataclass
class _Table:
    rows: list[list[_Cell]]
    heading: list[bool]
    starts: list[int]
    fields: tuple[str | None, ...]
    strong: bool  # headings in the body or ISO* styles: certainly a comment table


def _analyse(tbl: Any) -> _Table | None:
    rows = _table_cells(tbl)
    heading: list[bool] = []
    heading_cells: list[_Cell] | None = None
    heading_fields: list[str | None] | None = None
    for cells in rows:
        found = _heading_fields(cells)
        heading.append(found is not None)
        if found and heading_fields is None:
            heading_cells, heading_fields = cells, found

    shapes: Counter[tuple[int, ...]] = Counter()
    for cells, is_heading in zip(rows, heading, strict=True):
        if not is_heading and any(c.text for c in cells):
            shapes[tuple(c.start for c in cells)] += 1
    if not shapes:  # a blank form: take the shape of its empty rows
        for cells, is_heading in zip(rows, heading, strict=True):
            if not is_heading and cells:
                shapes[tuple(c.start for c in cells)] += 1
    # The most common row shape; between equally common shapes the one with more cells (a row
    # with merged cells is the exception, not the layout).
    starts = list(max(shapes.items(), key=lambda item: (item[1], len(item[0])))[0]) if shapes else []

    fields: tuple[str | None, ...] | None = None
    if heading_cells is not None and heading_fields is not None:
        named = set(heading_fields)
        usable = MB in named and COMMENT in named
        if usable and len(heading_cells) == len(starts):
            fields = tuple(heading_fields)
        elif usable and len(starts) not in _LAYOUTS:
            starts = [c.start for c in heading_cells]
            fields = tuple(heading_fields)
    if fields is None:
        fields = _LAYOUTS.get(len(starts))
    if fields is None or not starts:
        return None

    table = _Table(rows, heading, starts, fields, heading_fields is not None or _has_iso_styles(tbl))
    if fields == LAYOUT_9:
        table.fields = _choose_id_column(table)
    return table


def _field_texts(table: _Table, cells: list[_Cell]) -> dict[str, str]:
    values: dict[str, str] = {}
    starts, fields = table.starts, table.fields
    for cell in cells:
        if not cell.text:
            continue
        field = fields[max(bisect_right(starts, cell.start) - 1, 0)]
        if field is None:
            continue
        values[field] = f"{values[field]}\n{cell.text}" if values.get(field) else cell.text
    return values


def _choose_id_column(table: _Table) -> tuple[str | None, ...]:
    """Nine columns under eight headings: which of the first two holds the MB/NC?

    Hand-edited collations add an ID column next to the MB/NC column. The MB/NC column is the
    first one unless it holds mostly numbers or nothing while the second holds references.
    """
    first_numeric = second_mb = non_blank = 0
    for cells, is_heading in zip(table.rows, table.heading, strict=True):
        if is_heading or not any(c.text for c in cells):
            continue
        non_blank += 1
        values = _field_texts(table, cells)
        first, second = _first_line(values.get(MB, "")), _first_line(values.get(ID, ""))
        if not first or first.isdigit():
            first_numeric += 1
        if _LOOKS_LIKE_MB.match(second):
            second_mb += 1
    if non_blank and first_numeric * 2 > non_blank and second_mb * 2 > non_blank:
        return (ID, MB, *LAYOUT_9[2:])
    return LAYOUT_9


def _looks_like_comments(table: _Table) -> bool:
    """Content sniffing for tables without headings or styles: most types read as ge/te/ed."""
    known = non_blank = 0
    for cells, is_heading in zip(table.rows, table.heading, strict=True):
        if is_heading or not any(c.text for c in cells):
            continue
        non_blank += 1
        code, _ = parse_type(_field_texts(table, cells).get(TYPE, ""))
        if code:
            known += 1
    return non_blank > 0 and known * 2 >= non_blank


@dataclass(frozen=True)
class _ReadResult:
    tables: int
    rows: list[RawRow]


def _read(document: DocxDocument) -> _ReadResult:
    body = document.element.body
    if body is None:
        return _ReadResult(0, [])
    candidates: list[_Table] = []
    for tbl in body.iter(W_TBL):
        if _is_nested(tbl):
            continue
        table = _analyse(tbl)
        if table is not None:
            candidates.append(table)
    if not candidates:
        return _ReadResult(0, [])
    if any(t.strong for t in candidates):
        chosen = [t for t in candidates if t.strong]
    elif _header_has_headings(document):
        chosen = candidates
    else:
        chosen = [t for t in candidates if _looks_like_comments(t)]

    out: list[RawRow] = []
    number = 0
    for index, table in enumerate(chosen, start=1):
        above: dict[int, str] = {}  # grid column → text of the cell a vMerge continues
        n_fields = len(table.fields)
        title_span = max(3, n_fields // 2)
        for cells, is_heading in zip(table.rows, table.heading, strict=True):
            if is_heading:
                continue
            number += 1
            blank = True
            for cell in cells:
                if cell.text:
                    blank = False
                if cell.vmerge == 2:
                    if not cell.text:
                        cell.text = above.get(cell.start, "")
                else:
                    above[cell.start] = cell.text
            if blank:
                continue
            filled = [c for c in cells if c.text]
            if len(filled) == 1 and _covered(table.starts, filled[0]) >= title_span:
                continue  # a title row spanning the table ("Comments from …")
            values = _field_texts(table, cells)
            out.append(
                RawRow(
                    table=index,
                    row=number,
                    mb=values.get(MB, ""),
                    line=values.get(LINE, ""),
                    clause=values.get(CLAUSE, ""),
                    element=values.get(ELEMENT, ""),
                    type=values.get(TYPE, ""),
                    comment=values.get(COMMENT, ""),
                    proposed_change=values.get(CHANGE, ""),
                    observation=values.get(OBS, ""),
                    extra_id=values.get(ID, ""),
                )
            )
    return _ReadResult(len(chosen), out)


def _covered(starts: list[int], cell: _Cell) -> int:
    return sum(1 for s in starts if cell.start <= s < cell.start + cell.span)


def read_rows(document: DocxDocument) -> list[RawRow]:
    """Every data row of every comment table in ``document``'s body, in document order.

    Comment tables are recognised by shape (7, 8 or 9 columns, or headings that name the
    columns) plus evidence: column headings in a body row, ``ISO*`` paragraph styles, column
    headings in a page header, or, failing all of these, a type column that reads as ge/te/ed.
    Other tables (a collation tool's log, a cover table) are ignored. Blank rows and title rows
    are skipped (but counted, see the package docstring); heading rows are skipped.
    """
    return _read(document).rows
