"""Reading filled ISO commenting templates and compiled comment tables (.docx).

Two layers:

* ``read_rows(document)`` finds the comment tables of an opened python-docx document and returns
  every data row as text (``RawRow``), tolerating what real committee files contain: headings in
  the page header (2012-03 template) or in body rows (older copies, pasted tables), the 2001-09
  seven-column layout, an extra ID column (nine cells under eight headings), cells spanning grid
  columns (``gridSpan``), vertical merges (``vMerge``), ``gridBefore``/``gridAfter``, blank rows,
  stray empty paragraphs, tracked changes (insertions kept, deletions dropped).
* ``parse_national_comments`` (one body's upload, strict: SPEC §4.3) and ``parse_compiled_table``
  (anyone's compiled table, tolerant: SPEC §4.4) turn raw rows into ``CommentRow``s and
  ``RowProblem``s, with the helpers ``parse_mb``, ``parse_type`` and ``parse_observation``.

Row numbers
-----------
``row`` is the number a person finds by counting table rows in Word: rows are counted in document
order through every comment table (the count continues from one comment table into the next),
starting at 1 with the first row that is not a heading row. Heading rows (the column headings, or
the 2001-09 form's "1 2 3 … 7" numbering row, wherever they appear in a comment table) are not
counted. Every other row *is* counted, including blank rows and title rows that are skipped, so
"row 7" is the seventh row under the headings even when row 3 is empty. Rows of tables that are
not comment tables are never counted. Row 0 is used for problems about the whole file.

Speed: never python-docx's ``Table.cell()``/``_Row.cells`` (quadratic, then slow). Each table is
turned into text by one small XSLT pass over its lxml elements (``w:tr`` → ``w:tc`` → ``w:p`` →
``w:t``, in C), which avoids creating ~10 Python element proxies per cell: a 5,000-row template
parses end to end (safety checks, python-docx load, reading, validation) in about 0.5 s.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree  # type: ignore[import-untyped]

from services.documents.safety import DAMAGED, UploadRejected, open_docx

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

__all__ = [
    "MAX_CLAUSE_CHARS",
    "MAX_COMMENT_CHARS",
    "MAX_ELEMENT_CHARS",
    "MAX_LINE_CHARS",
    "MAX_PROPOSED_CHANGE_CHARS",
    "NO_COMMENT_TABLE",
    "CommentRow",
    "RawRow",
    "RowProblem",
    "parse_compiled_table",
    "parse_mb",
    "parse_national_comments",
    "parse_observation",
    "parse_type",
    "read_rows",
]

MAX_COMMENT_CHARS = 20_000
MAX_PROPOSED_CHANGE_CHARS = 20_000
MAX_LINE_CHARS = 100
MAX_CLAUSE_CHARS = 200
MAX_ELEMENT_CHARS = 200

NO_COMMENT_TABLE = "No comment table found: use the ISO commenting template."
EMPTY_COMMENT_TABLE = "The comment table holds no comments: fill in at least one row, or upload nothing."


# --------------------------------------------------------------------------------------------
# Public data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRow:
    """One data row of a comment table, as text (cell paragraphs joined with ``"\\n"``).

    ``table``: 1-based index of the table among the comment tables found. ``row``: see the module
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


@dataclass(frozen=True)
class CommentRow:
    row: int
    body: str  # resolved member-body code ("DE", "**"), a liaison's name as written, "" if unknown
    original_reference: str  # the file's own reference ("DE-001", "AFNOR-003", "CN-001"); "" if none
    line: str
    clause: str
    element: str
    type: str  # "ge" | "te" | "ed" | ""
    type_as_written: str  # the cell as written when it was not plainly ge/te/ed, else ""
    comment: str
    proposed_change: str
    observation: str  # rationale only (the text after the disposition)
    disposition: str | None


@dataclass(frozen=True)
class RowProblem:
    row: int
    message: str


# --------------------------------------------------------------------------------------------
# WordprocessingML names
# --------------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
W_BODY = _W + "body"
W_TBL = _W + "tbl"
W_TC = _W + "tc"
W_PSTYLE = _W + "pStyle"
W_VAL = _W + "val"
HEADER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"

# Field names used internally for columns.
MB, ID, LINE, CLAUSE, ELEMENT, TYPE, COMMENT, CHANGE, OBS = (
    "mb", "id", "line", "clause", "element", "type", "comment", "change", "obs",
)  # fmt: skip
LAYOUT_2012: tuple[str | None, ...] = (MB, LINE, CLAUSE, ELEMENT, TYPE, COMMENT, CHANGE, OBS)
LAYOUT_2001: tuple[str | None, ...] = (MB, CLAUSE, ELEMENT, TYPE, COMMENT, CHANGE, OBS)
LAYOUT_9: tuple[str | None, ...] = (MB, ID, LINE, CLAUSE, ELEMENT, TYPE, COMMENT, CHANGE, OBS)
_LAYOUTS = {7: LAYOUT_2001, 8: LAYOUT_2012, 9: LAYOUT_9}

_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"))


# --------------------------------------------------------------------------------------------
# Low-level text extraction (lxml elements, no python-docx proxies beyond the element classes)
# --------------------------------------------------------------------------------------------


# One pass of XSLT (libxslt, in C) turns a table into text: python-docx's element proxies cost
# ~10 µs each from Python, which adds up to seconds at 5,000 rows × 8 cells; the stylesheet does
# the same walk in ~0.2 s. Output: for each row ROW gridBefore, for each cell CELL gridSpan FIELD
# vMerge ("", "r" restart, "c" continue), then PARA + text for each of the cell's own paragraphs
# (through content controls and custom XML). Visible run content only: w:t, w:tab → tab, w:br and
# w:cr → newline, w:noBreakHyphen → "-"; nothing under w:del, w:moveFrom, text boxes, ruby text,
# alternate-content fallbacks, nested tables or paragraph/run properties (tab stops), and no
# w:delText or w:instrText (field codes). The separators are private-use characters, removed from
# the text itself; numbers pass through number(), so attributes cannot inject them either.
_ROW, _CELL, _PARA, _FIELD = "\ue001", "\ue002", "\ue003", "\ue004"
_EXTRACT_XSL = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
  xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:template match="/">
  <xsl:apply-templates select="w:tbl/w:tr | w:tbl/w:sdt/w:sdtContent/w:tr | w:tbl/w:customXml/w:tr"/>
</xsl:template>
<xsl:template match="w:tr">
  <xsl:text>&#xE001;</xsl:text>
  <xsl:if test="w:trPr/w:gridBefore"><xsl:value-of select="number(w:trPr/w:gridBefore/@w:val)"/></xsl:if>
  <xsl:for-each select="w:tc | w:sdt/w:sdtContent/w:tc | w:customXml/w:tc">
    <xsl:text>&#xE002;</xsl:text>
    <xsl:if test="w:tcPr/w:gridSpan"><xsl:value-of select="number(w:tcPr/w:gridSpan/@w:val)"/></xsl:if>
    <xsl:text>&#xE004;</xsl:text>
    <xsl:if test="w:tcPr/w:vMerge">
      <xsl:choose>
        <xsl:when test="w:tcPr/w:vMerge/@w:val = 'restart'">r</xsl:when><xsl:otherwise>c</xsl:otherwise>
      </xsl:choose>
    </xsl:if>
    <xsl:for-each select="w:p | w:sdt/w:sdtContent/w:p | w:customXml/w:p | w:sdt/w:sdtContent/w:customXml/w:p">
      <xsl:text>&#xE003;</xsl:text><xsl:apply-templates mode="run"/>
    </xsl:for-each>
  </xsl:for-each>
</xsl:template>
<xsl:template mode="run" match="w:del | w:moveFrom | w:txbxContent | w:rt | mc:Fallback | w:p | w:tbl
    | w:pPr | w:rPr | w:sdtPr | w:instrText | w:delText | w:delInstrText"/>
<xsl:template mode="run" match="w:t">
  <xsl:value-of select="translate(., '&#xE001;&#xE002;&#xE003;&#xE004;', '')"/>
</xsl:template>
<xsl:template mode="run" match="w:tab"><xsl:text>&#9;</xsl:text></xsl:template>
<xsl:template mode="run" match="w:br | w:cr"><xsl:text>&#10;</xsl:text></xsl:template>
<xsl:template mode="run" match="w:noBreakHyphen"><xsl:text>-</xsl:text></xsl:template>
<xsl:template mode="run" match="*"><xsl:apply-templates mode="run"/></xsl:template>
<xsl:template mode="run" match="text()"/>
</xsl:stylesheet>"""
_THREAD = threading.local()


def _extractor() -> Any:
    """The compiled stylesheet, one per thread (workers may read files in parallel threads)."""
    xslt = getattr(_THREAD, "xslt", None)
    if xslt is None:
        xslt = etree.XSLT(
            etree.fromstring(_EXTRACT_XSL, etree.XMLParser(resolve_entities=False, no_network=True)),
            access_control=etree.XSLTAccessControl.DENY_ALL,
        )
        _THREAD.xslt = xslt
    return xslt


def _to_int(text: str, default: int, low: int, high: int) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:  # "" or "NaN"
        return default
    return min(max(value, low), high)


def _join_lines(paragraphs: list[str]) -> str:
    """Paragraphs joined with newlines; empty leading/trailing paragraphs and edge spaces trimmed."""
    lines = [line.rstrip() for line in paragraphs]
    while lines and not lines[-1]:
        lines.pop()
    start = 0
    while start < len(lines) and not lines[start]:
        start += 1
    text = "\n".join(lines[start:]).strip()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


@dataclass(slots=True)
class _Cell:
    start: int  # first grid column
    span: int  # grid columns covered
    vmerge: int  # 0 none, 1 restart, 2 continuation of the cell above
    text: str


_VMERGE = {"": 0, "r": 1, "c": 2}


def _table_cells(tbl: Any) -> list[list[_Cell]]:
    """Every row of ``tbl`` as cells with their grid position and visible text."""
    try:
        extracted = str(_extractor()(tbl))
    except etree.Error as exc:  # libxslt limits (depth, size) on a hostile but well-formed file
        raise UploadRejected(DAMAGED) from exc
    rows: list[list[_Cell]] = []
    for chunk in extracted.split(_ROW)[1:]:
        parts = chunk.split(_CELL)
        col = _to_int(parts[0].strip(), 0, 0, 63)
        cells: list[_Cell] = []
        for part in parts[1:]:
            head, *paragraphs = part.split(_PARA)
            span_text, _, vmerge = head.partition(_FIELD)
            span = _to_int(span_text.strip(), 1, 1, 63)
            cells.append(_Cell(col, span, _VMERGE.get(vmerge.strip(), 0), _join_lines(paragraphs)))
            col += span
        rows.append(cells)
    return rows


def _has_iso_styles(tbl: Any) -> bool:
    for checked, style in enumerate(tbl.iter(W_PSTYLE)):
        if str(style.get(W_VAL) or "").upper().startswith("ISO"):
            return True
        if checked > 2_000:
            break
    return False


def _is_nested(tbl: Any) -> bool:
    anc = tbl.getparent()
    while anc is not None:
        if anc.tag == W_TC:
            return True
        if anc.tag == W_BODY:
            return False
        anc = anc.getparent()
    return False


# --------------------------------------------------------------------------------------------
# Headings
# --------------------------------------------------------------------------------------------

_HINT = re.compile(r"\(.*?\)", re.S)
_NON_LETTERS = re.compile(r"[^a-z]+")


def _heading_field(text: str) -> str | None:
    """The column a heading cell names ("MB/NC¹", "Type of com-ment²", "Issue" …), or None."""
    if not text or len(text) > 120:
        return None
    compact = _NON_LETTERS.sub("", _HINT.sub(" ", text.lower()))
    if not compact:
        return None
    if compact in ("mb", "nc", "mbnc", "nb", "memberbody", "nationalbody", "country") or compact.startswith("mbnc"):
        return MB
    if compact.startswith("line"):
        return LINE
    if compact.startswith(("clause", "subclause", "section")):
        return CLAUSE
    if compact.startswith(("paragraph", "figure", "table", "element")):
        return ELEMENT
    if compact.startswith(("typeof", "commenttype")) or compact == "type":
        return TYPE
    if compact.startswith("comment"):
        return COMMENT
    if compact.startswith("proposed") or compact in ("change", "changes"):
        return CHANGE
    if (
        "observation" in compact
        or "secretariat" in compact
        or compact in ("issue", "disposition", "resolution", "decision", "response", "responses")
    ):
        return OBS
    if compact in ("id", "no", "nr", "number", "ref", "reference", "commentid"):
        return ID
    return None


def _heading_fields(cells: list[_Cell]) -> list[str | None] | None:
    """The fields named by a heading row, or None when ``cells`` is not a heading row."""
    texts = [c.text for c in cells]
    filled = [t for t in texts if t]
    if len(filled) >= 5 and filled == [str(i) for i in range(1, len(filled) + 1)]:
        return []  # the 2001-09 form's column-number row: a heading row naming nothing
    if len(filled) < 4 or sum(len(t) for t in filled) > 1000:
        return None
    # Cheap tests first (most rows are data): the first heading names the MB/NC (or an ID)
    # column, and some heading starts with "Comment".
    if _heading_field(filled[0]) not in (MB, ID):
        return None
    if not any(t[:24].lower().lstrip("(0123456789) ").startswith("comment") for t in filled):
        return None
    fields = [_heading_field(t) for t in texts]
    named = {f for f in fields if f is not None} - {ID}
    if len(named) >= 4 and COMMENT in named and sum(f is not None for f in fields) * 2 >= len(filled):
        return fields
    return None


def _header_has_headings(document: DocxDocument) -> bool:
    """Whether any page header carries the comment-table column headings (2012-03, 2001-09)."""
    try:
        rels = list(document.part.rels.values())
    except Exception:
        return False
    for rel in rels:
        if rel.reltype != HEADER_REL or rel.is_external:
            continue
        root = getattr(rel.target_part, "element", None)
        if root is None:
            continue
        for tbl in root.iter(W_TBL):
            for cells in _table_cells(tbl):
                if _heading_fields(cells):
                    return True
    return False


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

_LOOKS_LIKE_MB = re.compile(r"^(\*\*|[A-Za-z])")


@dataclass
class _Table:
    rows: list[list[_Cell]]
    heading: list[bool]
    starts: list[int]
    fields: tuple[str | None, ...]
    strong: bool  # headings in the body or ISO* styles: certainly a comment table


def _first_line(text: str) -> str:
    for line in text.split("\n"):
        line = line.strip()
        if line:
            return line
    return ""


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
    are skipped (but counted, see the module docstring); heading rows are skipped.
    """
    return _read(document).rows


# --------------------------------------------------------------------------------------------
# Cell parsers
# --------------------------------------------------------------------------------------------

_REFERENCE = re.compile(r"^(?P<prefix>.*?)\s*-\s*(?P<number>\d[\w.]*(?:\s*-\s*\d[\w.]*)*)$")
_SPACED_REFERENCE = re.compile(r"^(?P<prefix>[A-Za-z]{2}|\*\*)\s+(?P<number>\d+)$")
_CODE_WITH_FILE_NUMBER = re.compile(r"^(?P<code>[A-Z]{2,}|\*\*)(?P<file>\d+)$")
_CODE_WITH_NAME = re.compile(r"^(?P<code>[^()]+?)\s*\((?P<name>[^()]*)\)$")
_PLACEHOLDER = re.compile(r"^(X{2,}|\?+|TBD|N/?A|-+)$", re.I)
_TWO_LETTERS = re.compile(r"^[A-Za-z]{2}$")


def _alias_map(aliases: Mapping[str, str]) -> dict[str, str]:
    return {key.strip().upper(): value for key, value in aliases.items() if key and key.strip()}


def _resolve_prefix(prefix: str, amap: Mapping[str, str]) -> str | None:
    if not prefix:
        return None
    upper = prefix.upper()
    if upper in amap:
        return amap[upper]
    if upper == "**":
        return "**"
    if _PLACEHOLDER.match(prefix):
        return None
    m = _CODE_WITH_FILE_NUMBER.match(upper)  # DK2 → DK (the second Danish file)
    if m and (m["code"] in amap or len(m["code"]) == 2 or m["code"] == "**"):
        return amap.get(m["code"], m["code"])
    if _TWO_LETTERS.match(prefix):
        return upper
    m = _CODE_WITH_NAME.match(prefix)  # "DE (DIN)"; but "JRC (EC)" stays a liaison's name
    if m and m["code"].strip().upper() in amap:
        return amap[m["code"].strip().upper()]
    if "/" in prefix:  # "DE/DIN"; but "CEN/TC 465" stays a liaison's name
        codes = {amap.get(part.strip().upper()) for part in prefix.split("/")}
        if len(codes) == 1 and None not in codes:
            return codes.pop()
    return prefix


def _parse_mb(mb: str, amap: Mapping[str, str]) -> tuple[str | None, str]:
    first = _first_line(mb.translate(_DASHES))
    if not first:
        return None, ""
    first = " ".join(first.split())
    m = _REFERENCE.match(first)
    if m:
        prefix = m["prefix"].strip()
        number = re.sub(r"\s*-\s*", "-", m["number"])
        return _resolve_prefix(prefix, amap), f"{prefix}-{number}"
    m = _SPACED_REFERENCE.match(first)
    if m:
        return _resolve_prefix(m["prefix"], amap), first
    if _PLACEHOLDER.match(first):
        return None, ""
    code = _resolve_prefix(first, amap)
    m = _CODE_WITH_FILE_NUMBER.match(first.upper())
    return code, (first if m and first.upper() not in amap else "")


def parse_mb(mb: str, aliases: Mapping[str, str]) -> tuple[str | None, str]:
    """Read an MB/NC cell → (body code or None, original reference or "").

    ``aliases`` maps codes and acronyms to codes (case-insensitive), e.g. ``{"DIN": "DE"}``.
    Only the first non-empty paragraph counts (``"CN-001\\n-002"`` → ``("CN", "CN-001")``).
    ``"DE"``/``"DIN"`` → (``"DE"``, ``""``); ``"AFNOR-003"`` → (``"FR"``, ``"AFNOR-003"``);
    ``"DK2-005"`` → ``"DK"`` (a second file's number); ``"**-001"`` → ``"**"``; ``"ZA-001-030"``
    → (``"ZA"``, ``"ZA-001-030"``); ``"-009"`` → (None, ``"-009"``); placeholders (``"XXX"``,
    ``"?"``) → (None, ""). A two-letter prefix not in ``aliases`` is taken as an ISO 3166 code;
    any other unknown prefix is a liaison's name and is returned as written (``"JRC (EC)"``,
    ``"TMG"``, ``"IOGP"``). ``"DE (DIN)"`` and ``"DE/DIN"`` resolve when the code or every part is
    an alias. Unicode dashes count as hyphens; the reference is returned with ASCII hyphens and no
    spaces around them.
    """
    return _parse_mb(mb, _alias_map(aliases))


_TYPE_WORDS = {
    "ge": "ge",
    "gen": "ge",
    "general": "ge",
    "te": "te",
    "tech": "te",
    "technical": "te",
    "ed": "ed",
    "edit": "ed",
    "editorial": "ed",
}
_TYPE_SPLIT = re.compile(r"\s*(?:[/,;&+|]|\band\b|\s)\s*")


def parse_type(raw: str) -> tuple[str | None, str]:
    """Read a "Type of comment" cell → (``"ge"|"te"|"ed"``, ``""`` when empty, None when unknown;
    type as written).

    Case and a trailing full stop do not matter (``TE``, ``Te``, ``Ed.``); the words general,
    technical, editorial are understood (also "te (technical)", "General comment"); a combination
    (``Ed/te``, ``Te/ed``, ``ge/te``) is classed by its first part; every part must be known.
    The second value keeps the cell as written unless it was plainly ge, te or ed (in any case,
    with or without a full stop), in which case it is ``""``.
    """
    written = " ".join(raw.split())
    if not written:
        return "", ""
    parts = [p.strip(" .:-()") for p in _TYPE_SPLIT.split(written.lower())]
    parts = [p for p in parts if p and p not in ("comment", "comments")]
    codes = [_TYPE_WORDS.get(p) for p in parts]
    if not codes or any(c is None for c in codes):
        return None, written
    plain = len(parts) == 1 and parts[0] in ("ge", "te", "ed")
    return codes[0], "" if plain else written


_DISPOSITIONS: tuple[tuple[str, str], ...] = (
    (
        r"accept(?:ed)?\s+in\s+principle|agreed\s+in\s+principle|accepted\s+in\s+principal"
        r"|accept(?:ed)?\s+with\s+(?:modifications?|changes?|amendments?)",
        "accepted_in_principle",
    ),
    (
        r"partial(?:ly)?\s+accept(?:ed)?|partly\s+accept(?:ed)?|accept(?:ed)?\s+(?:partially|in\s+part)",
        "partially_accepted",
    ),
    (r"not\s+accept(?:ed)?|reject(?:ed)?|not\s+agreed|declined|refused", "rejected"),
    (r"withdrawn|comment\s+withdrawn", "withdrawn"),
    (r"noted|acknowledged", "noted"),
    (r"accept(?:ed)?|agreed|fixed|done|implemented", "accepted"),
)
_DISPOSITION_RES = tuple(
    (
        re.compile(
            r"^(?:(?:decision|disposition|status|resolution)\s*[:\-–—]\s*)?(?:" + pattern + r")(?![\w])(?P<rest>.*)$",
            re.I | re.S,
        ),
        value,
    )
    for pattern, value in _DISPOSITIONS
)


def parse_observation(text: str) -> tuple[str | None, str]:
    """Read an "Observations of the secretariat" cell → (disposition or None, rationale).

    The first non-empty paragraph is read as the decision: "Accepted", "Accepted in principle"
    (also "accepted with modifications"), "Partially accepted", "Noted", "Not accepted" or
    "Rejected" (→ ``rejected``), "Withdrawn", "Fixed"/"Done"/"Agreed" (→ ``accepted``), in any
    case, with trailing punctuation, possibly followed on the same line by text ("Rejected.  The
    intent …"). The rationale is that trailing text plus the following paragraphs. When the first
    paragraph is not a decision, the result is (None, the whole text).
    """
    lines = text.strip().split("\n")
    first = lines[0].strip() if lines else ""
    if not first:
        return None, ""
    for regex, value in _DISPOSITION_RES:
        m = regex.match(first)
        if m is None:
            continue
        rest = m["rest"].strip()
        rest = re.sub(r"^[\s.,:;!\-–—]+", "", rest).strip()
        remaining = "\n".join(lines[1:]).strip()
        rationale = "\n".join(part for part in (rest, remaining) if part)
        return value, rationale
    return None, text.strip()


# --------------------------------------------------------------------------------------------
# Whole files
# --------------------------------------------------------------------------------------------


def _only_mb(raw: RawRow) -> bool:
    """A row whose only content is the MB/NC cell (forms often come with the code pre-filled)."""
    return not (
        raw.line or raw.clause or raw.element or raw.type or raw.comment or raw.proposed_change or raw.observation
    )


def _body_and_reference(raw: RawRow, amap: Mapping[str, str]) -> tuple[str | None, str]:
    code, reference = _parse_mb(raw.mb, amap)
    if raw.extra_id:
        id_code, id_reference = _parse_mb(raw.extra_id, amap)
        if id_code is not None and id_reference:
            reference = id_reference
            if code is None:
                code = id_code
    return code, reference


def _same_body(code: str, body: str, amap: Mapping[str, str]) -> bool:
    mine = amap.get(body.strip().upper(), body.strip())
    return code.upper() == mine.upper()


def parse_national_comments(
    data: bytes, body: str, aliases: Mapping[str, str]
) -> tuple[list[CommentRow], list[RowProblem]]:
    """Parse one member body's filled template (SPEC §4.3) → (rows, problems).

    Strict where it matters: every row must belong to ``body`` (an empty MB/NC cell, a placeholder
    such as ``XXX`` or a bare number such as ``-009`` means the uploading body), the type must be
    ge/te/ed or empty, the comment must not be empty, and texts must fit the limits. Every problem
    names its row; the caller imports all rows or none. Rows holding nothing but an MB/NC value are
    skipped like blank rows. ``UploadRejected`` from ``open_docx`` propagates.
    """
    document = open_docx(data)
    result = _read(document)
    if result.tables == 0:
        return [], [RowProblem(0, NO_COMMENT_TABLE)]
    amap = _alias_map(aliases)
    own = amap.get(body.strip().upper(), body.strip())
    rows: list[CommentRow] = []
    problems: list[RowProblem] = []
    for raw in result.rows:
        if _only_mb(raw):
            continue
        n = raw.row
        code, reference = _body_and_reference(raw, amap)
        if code is not None and not _same_body(code, own, amap):
            problems.append(
                RowProblem(
                    n,
                    f"Row {n} belongs to {code}, not {own} (its MB/NC cell reads "
                    f"“{_first_line(raw.mb or raw.extra_id)}”): only {own}'s comments can be uploaded here. "
                    "Remove the row or correct its MB/NC cell.",
                )
            )
        type_code, type_written = parse_type(raw.type)
        if type_code is None:
            problems.append(
                RowProblem(
                    n,
                    f"Row {n}: the type of comment “{type_written}” is not ge (general), te (technical) "
                    "or ed (editorial). Correct it or leave the cell empty.",
                )
            )
        if not raw.comment:
            problems.append(RowProblem(n, f"Row {n} has no comment text. Fill in the Comments cell or delete the row."))
        for label, value, limit in (
            ("comment", raw.comment, MAX_COMMENT_CHARS),
            ("proposed change", raw.proposed_change, MAX_PROPOSED_CHANGE_CHARS),
            ("line number", raw.line, MAX_LINE_CHARS),
            ("clause", raw.clause, MAX_CLAUSE_CHARS),
            ("paragraph/figure/table", raw.element, MAX_ELEMENT_CHARS),
        ):
            if len(value) > limit:
                problems.append(
                    RowProblem(
                        n,
                        f"Row {n}: the {label} is {len(value):,} characters long; the limit is {limit:,}. "
                        "Shorten it or split the comment over several rows.",
                    )
                )
        rows.append(_comment_row(raw, own, reference, type_code or "", type_written))
    if not rows and not problems:
        problems.append(RowProblem(0, EMPTY_COMMENT_TABLE))
    return rows, problems


def _comment_row(raw: RawRow, body: str, reference: str, type_code: str, type_written: str) -> CommentRow:
    disposition, rationale = parse_observation(raw.observation)
    return CommentRow(
        row=raw.row,
        body=body,
        original_reference=reference,
        line=raw.line,
        clause=raw.clause,
        element=raw.element,
        type=type_code,
        type_as_written=type_written,
        comment=raw.comment,
        proposed_change=raw.proposed_change,
        observation=rationale,
        disposition=disposition,
    )


def parse_compiled_table(data: bytes, aliases: Mapping[str, str]) -> tuple[list[CommentRow], list[RowProblem]]:
    """Parse a compiled comment table from anywhere (SPEC §4.4) → (rows, problems).

    Every body's rows are kept, liaisons and ``**`` included, with their original references and
    observations (disposition read from the first paragraph). Tolerant: an unknown type is kept
    as written with ``type=""``; a row whose body cannot be told (empty MB/NC, ``XXX``, ``-009``)
    is kept with ``body=""``; no length limits. Problems only for rows that cannot be used at
    all: rows with neither a comment nor a proposed change (they are left out). Rows holding
    nothing but an MB/NC value are skipped like blank rows.
    """
    document = open_docx(data)
    result = _read(document)
    if result.tables == 0:
        return [], [RowProblem(0, NO_COMMENT_TABLE)]
    amap = _alias_map(aliases)
    rows: list[CommentRow] = []
    problems: list[RowProblem] = []
    for raw in result.rows:
        if _only_mb(raw):
            continue
        n = raw.row
        if not raw.comment and not raw.proposed_change:
            problems.append(RowProblem(n, f"Row {n} has neither a comment nor a proposed change, so it was left out."))
            continue
        code, reference = _body_and_reference(raw, amap)
        type_code, type_written = parse_type(raw.type)
        rows.append(_comment_row(raw, code or "", reference, type_code or "", type_written))
    if not rows and not problems:
        problems.append(RowProblem(0, EMPTY_COMMENT_TABLE))
    return rows, problems
