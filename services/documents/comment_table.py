"""The compiled comment table (SPEC §4.1) in the layout of ISO's 2012-03 commenting template.

Layout, as in the official template (facts, not its XML): A4 landscape; the page header holds a
title row ("Template for comments and secretariat observations", Date, Document, Project) and a
table with the eight column headings, so the headings repeat on every page without a repeating
header row; the body holds only data rows, in cells whose paragraphs carry the styles
``ISOMB``, ``ISOClause``, ``ISOParagraph``, ``ISOCommType``, ``ISOComments``, ``ISOChange`` and
``ISOSecretObservations`` (collation tools look for them); the footer holds the two footnotes and
"page X of Y". Column widths keep the template's proportions (606 : 908 : 1209 : 1209 : 1115 :
4177 : 4233 : 2419 twips); the side margins are chosen so the table, at the template's own total
width, fits between them.

How it is written (for speed and memory, see perf-anchors §1): python-docx builds the frame —
styles, section, header, footer, and a body table holding one placeholder row — once per process,
with markers where the date, document and project go. Each call then writes the final zip part
by part: every part copied unchanged (the header and core properties with the values put in for
the markers) except ``word/document.xml``, which is streamed: the frame's XML up to the
placeholder row, then each comment's row generated as a string and written in chunks of a few
hundred rows, then the rest. Rows are never held in memory all at once.

Choices:
* MB/NC cell: the comment reference alone (``DE-001``), as ISO's collation tool writes it
  (``AFNOR-001``, ``**-002``, ``DK2-005`` in its output); the body code is written only when a
  row has no reference. Two paragraphs would read, to tools that parse these tables, as "own
  number / collated number" (``CN-001`` / ``-002``), which is not what we mean.
* Rows may break across pages (no ``w:cantSplit``): a 600-character comment in a 7 cm column can
  be taller than a page, and Word clips a row that may not split but does not fit. ISO's
  collation output does not set it either.
* Observation cell: when a disposition is set, its first paragraph is the disposition in words,
  then the observation text (one paragraph per line). This is also how uploaded observations are
  read back (SPEC §4.4).
* The body is a run of tables of ``ROWS_PER_TABLE`` (200) rows, separated by a 1-pt paragraph:
  LibreOffice lays out a single long table in quadratic time and could not open 20,000 rows in
  reasonable time; split, it is linear. Word shows the same page either way; the headings are in
  the page header. Whoever reads the table back iterates over all tables in order.
* No rows: the body table is left out and a single line says so — Word reports a table without
  rows as a damaged file.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, Twips

from services.documents.xmltext import clean_text, escape, paragraphs_xml

__all__ = [
    "COLUMN_HEADINGS",
    "DISPOSITION_WORDS",
    "TableInfo",
    "TableRow",
    "add_page_of_pages",
    "disposition_words",
    "drop_template_extras",
    "row_xml",
    "write_comment_table",
]


@dataclass(frozen=True, slots=True)
class TableRow:
    body: str  # MB/NC code as shown: "DE", "**", "CEN/TC 465"
    reference: str  # "DE-001"
    line: str
    clause: str
    element: str  # paragraph/figure/table/note
    type: str  # "ge" | "te" | "ed" | "" (or a raw value kept as written, e.g. "Ed/te")
    comment: str
    proposed_change: str
    observation: str  # secretariat observation text (may be multi-line)
    disposition: str | None  # "accepted", "accepted_in_principle", … or None


@dataclass(frozen=True)
class TableInfo:
    date: str  # e.g. "2026-11-25"
    document: str  # e.g. "ISO/DIS 11367"
    project: str  # e.g. "ISO 11367 Service excellence — Principles and model for public service organizations"
    title: str = "Template for comments and secretariat observations"


DISPOSITION_WORDS: dict[str, str] = {
    "accepted": "Accepted",
    "accepted_in_principle": "Accepted in principle",
    "partially_accepted": "Partially accepted",
    "noted": "Noted",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
}


def disposition_words(disposition: str) -> str:
    """``accepted_in_principle`` → ``Accepted in principle``; an unknown value is shown humanised."""
    key = disposition.strip().lower().replace(" ", "_").replace("-", "_")
    words = DISPOSITION_WORDS.get(key)
    if words is not None:
        return words
    text = disposition.strip().replace("_", " ")
    return text[:1].upper() + text[1:]


# --- geometry ---------------------------------------------------------------------------------

# (heading paragraphs, example line, paragraph style of the data cells, template width in twips)
_COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("MB/NC", "", "ISOMB", 606),
    ("Line number", "(e.g. 17)", "ISOClause", 908),
    ("Clause/ Subclause", "(e.g. 3.1)", "ISOClause", 1209),
    ("Paragraph/ Figure/ Table/ Note", "(e.g. Table 1)", "ISOParagraph", 1209),
    ("Type of comment", "", "ISOCommType", 1115),
    ("Comments", "", "ISOComments", 4177),
    ("Proposed change", "", "ISOChange", 4233),
    ("Observations of the secretariat", "", "ISOSecretObservations", 2419),
)
COLUMN_HEADINGS: tuple[str, ...] = tuple(c[0] for c in _COLUMNS)
# Footnote marks after a heading: MB/NC¹ and Type of comment².
_HEADING_MARKS = {0: "1", 4: "2"}

# paragraph style id → (style name, as the template names them)
_ISO_STYLES: dict[str, str] = {
    "ISOMB": "ISO_MB",
    "ISOClause": "ISO_Clause",
    "ISOParagraph": "ISO_Paragraph",
    "ISOCommType": "ISO_Comm_Type",
    "ISOComments": "ISO_Comments",
    "ISOChange": "ISO_Change",
    "ISOSecretObservations": "ISO_Secret_Observations",
}

_PAGE_WIDTH = Mm(297)
_PAGE_HEIGHT = Mm(210)
_SIDE_MARGIN = Mm(8.5)  # 297 − 2 × 8.5 = 280 mm ≈ 15,874 twips: the template's table width
_TOP_BOTTOM_MARGIN = Mm(15)
_HEADER_FOOTER_DISTANCE = Mm(10)
_CELL_MARGIN_TWIPS = 57  # 1 mm left and right inside each cell


def _scaled_widths(template: list[int], total: int) -> tuple[int, ...]:
    """Scale column widths to ``total`` twips keeping their proportions; the sum is exact."""
    scale = total / sum(template)
    widths = [round(w * scale) for w in template]
    widths[widths.index(max(widths))] += total - sum(widths)
    return tuple(widths)


_TEXT_WIDTH: int = _PAGE_WIDTH.twips - 2 * _SIDE_MARGIN.twips
_WIDTHS: tuple[int, ...] = _scaled_widths([c[3] for c in _COLUMNS], _TEXT_WIDTH)
# Title row of the page header: title | Date | Document | Project. The project cell is wider than
# in the template because it holds the full project title.
_TITLE_WIDTHS: tuple[int, ...] = _scaled_widths([6700, 1900, 2900, 4374], _TEXT_WIDTH)


# --- row XML ----------------------------------------------------------------------------------

_TC_OPEN: tuple[str, ...] = tuple(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>' for w in _WIDTHS)
_P_OPEN: tuple[str, ...] = tuple(f'<w:p><w:pPr><w:pStyle w:val="{c[2]}"/></w:pPr>' for c in _COLUMNS)
_CHUNK_ROWS = 256
# zlib level for the package. Deflating the row XML is most of the writing time: 20,000 rows
# (36 MB of XML) take 0.83 s at level 6 (zlib's default), 0.52 s at level 3 and 0.46 s at
# level 1, for files of 6.7, 7.4 and 7.9 MB.
COMPRESS_LEVEL = 3
# The body is written as consecutive tables of this many rows (0: one table). LibreOffice lays
# out one long table in quadratic time — 1,000 rows took 25 s to convert to PDF, 2,000 rows
# 101 s; 20,000 rows took 14 min to load and the export was still running 27 min later (killed)
# — while tables of 200 rows keep it linear
# (2,000 rows: 22–27 s). The headings are in the page header, so the split does not show
# except as a double rule every 200 rows; readers of these tables accept several tables.
ROWS_PER_TABLE = 200


def _mb_text(row: TableRow) -> str:
    return row.reference or row.body


def _observation_xml(row: TableRow) -> str:
    p_open = _P_OPEN[7]
    if not row.disposition:
        return paragraphs_xml(row.observation, p_open)
    head = paragraphs_xml(disposition_words(row.disposition), p_open)
    if not row.observation.strip():
        return head
    return head + paragraphs_xml(row.observation, p_open)


def row_xml(row: TableRow) -> str:
    """The ``w:tr`` of one comment (exposed for tests and benchmarks)."""
    tc, p = _TC_OPEN, _P_OPEN
    return (
        f"<w:tr>{tc[0]}{paragraphs_xml(_mb_text(row), p[0])}</w:tc>"
        f"{tc[1]}{paragraphs_xml(row.line, p[1])}</w:tc>"
        f"{tc[2]}{paragraphs_xml(row.clause, p[2])}</w:tc>"
        f"{tc[3]}{paragraphs_xml(row.element, p[3])}</w:tc>"
        f"{tc[4]}{paragraphs_xml(row.type, p[4])}</w:tc>"
        f"{tc[5]}{paragraphs_xml(row.comment, p[5])}</w:tc>"
        f"{tc[6]}{paragraphs_xml(row.proposed_change, p[6])}</w:tc>"
        f"{tc[7]}{_observation_xml(row)}</w:tc></w:tr>"
    )


# --- the frame (python-docx) ------------------------------------------------------------------

_PLACEHOLDER = "BALLOTDESK-ROW-PLACEHOLDER-5b0e2f"
_NO_ROWS_TEXT = "No comments were submitted."
_BORDER = 'w:val="single" w:sz="6" w:space="0" w:color="auto"'


def _tbl_pr(width: int, *, inside_h: bool = True) -> Any:
    inside = f"<w:insideH {_BORDER}/>" if inside_h else ""
    return parse_xml(
        f"<w:tblPr {nsdecls('w')}>"
        f'<w:tblW w:w="{width}" w:type="dxa"/><w:jc w:val="center"/>'
        f"<w:tblBorders><w:top {_BORDER}/><w:left {_BORDER}/><w:bottom {_BORDER}/><w:right {_BORDER}/>"
        f"{inside}<w:insideV {_BORDER}/></w:tblBorders>"
        '<w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:left w:w="{_CELL_MARGIN_TWIPS}" w:type="dxa"/>'
        f'<w:right w:w="{_CELL_MARGIN_TWIPS}" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0"'
        ' w:noHBand="0" w:noVBand="0"/>'
        "</w:tblPr>"
    )


def _fix_table(table: Any, widths: tuple[int, ...], *, inside_h: bool = True) -> None:
    """Fixed layout, explicit grid and cell widths, our borders (no table style)."""
    tbl = table._tbl
    tbl.remove(tbl.tblPr)
    tbl.insert(0, _tbl_pr(sum(widths), inside_h=inside_h))
    table.autofit = False
    for column, w in zip(table.columns, widths, strict=True):
        column.width = Twips(w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = Twips(w)


def _no_borders(cell: Any) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    tc_pr.append(
        parse_xml(
            f'<w:tcBorders {nsdecls("w")}><w:top w:val="nil"/><w:left w:val="nil"/>'
            '<w:bottom w:val="nil"/><w:right w:val="nil"/></w:tcBorders>'
        )
    )


def _field(paragraph: Any, instruction: str) -> None:
    """A complex field (``PAGE``, ``NUMPAGES``) with a placeholder result; Word fills it in on layout."""

    def fld_char(kind: str) -> None:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        paragraph.add_run()._r.append(el)

    fld_char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    fld_char("separate")
    paragraph.add_run("1")
    fld_char("end")


def add_page_of_pages(paragraph: Any) -> None:
    """Append "page X of Y" (PAGE and NUMPAGES fields) to a python-docx paragraph."""
    paragraph.add_run("page ")
    _field(paragraph, "PAGE")
    paragraph.add_run(" of ")
    _field(paragraph, "NUMPAGES")


def _setup_styles(doc: Any) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(0)
    for style_id, name in _ISO_STYLES.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.style_id = style_id
        style.base_style = normal
        style.font.name = "Arial"
        style.font.size = Pt(9)
        fmt = style.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.LEFT
        fmt.space_before = Pt(3)
        fmt.space_after = Pt(3)
        fmt.line_spacing = 1.0
    for name in ("Header", "Footer"):
        styles[name].font.name = "Arial"
        styles[name].font.size = Pt(8)


_KEEP_STYLES = frozenset(
    {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "Header", "HeaderChar", "Footer", "FooterChar"}
)


def drop_template_extras(doc: Any) -> None:
    """Remove what python-docx's default template carries but our documents do not need: its
    thumbnail picture (a preview of the template, not of our document), the customXml item and
    the 440 kB stylesWithEffects copy of the styles."""
    pkg_rels = doc.part.package.rels
    for r_id, rel in list(pkg_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del pkg_rels[r_id]
    drop = {RT.CUSTOM_XML, "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"}
    for r_id, rel in list(doc.part.rels.items()):
        if rel.reltype in drop:
            doc.part.drop_rel(r_id)


def _drop_extras(doc: Any) -> None:
    """Besides the template extras, the comment table needs no numbering and none of the ~150
    table and list styles (the file shrinks from ~380 kB to ~25 kB)."""
    drop_template_extras(doc)
    for r_id, rel in list(doc.part.rels.items()):
        if rel.reltype == RT.NUMBERING:
            doc.part.drop_rel(r_id)
    styles = doc.styles.element
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in _KEEP_STYLES:
            styles.remove(style)


def _cell_paragraph(cell: Any, style: str | None = None) -> Any:
    paragraph = cell.paragraphs[0]
    if style is not None:
        paragraph.style = style
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(3)
    fmt.space_after = Pt(3)
    return paragraph


def _build_header(doc: Any, section: Any, info: TableInfo) -> None:
    header = section.header
    header.is_linked_to_previous = False
    for p in list(header.paragraphs):
        p._p.getparent().remove(p._p)
    styles = doc.styles

    # Title row: title (no borders) | Date | Document | Project
    top = header.add_table(rows=1, cols=4, width=Twips(sum(_TITLE_WIDTHS)))
    _fix_table(top, _TITLE_WIDTHS, inside_h=False)
    cells = top.rows[0].cells
    _no_borders(cells[0])
    title = _cell_paragraph(cells[0], styles["ISO_Comments"])
    run = title.add_run(clean_text(info.title))
    run.bold = True
    run.font.size = Pt(11)
    for cell, style, label, value in (
        (cells[1], "ISO_Change", "Date: ", info.date),
        (cells[2], "ISO_Secret_Observations", "Document: ", info.document),
        (cells[3], "ISO_Secret_Observations", "Project: ", info.project),
    ):
        p = _cell_paragraph(cell, styles[style])
        p.add_run(label)
        p.add_run(clean_text(value)).bold = True

    spacer = header.add_paragraph()
    spacer.paragraph_format.space_after = Pt(0)

    # The eight column headings, in a table with the body table's grid.
    headings = header.add_table(rows=1, cols=len(_COLUMNS), width=Twips(sum(_WIDTHS)))
    _fix_table(headings, _WIDTHS)
    for i, (cell, (heading, example, _style, _w)) in enumerate(zip(headings.rows[0].cells, _COLUMNS, strict=True)):
        p = _cell_paragraph(cell)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(heading)
        run.bold = True
        run.font.size = Pt(8)
        mark = _HEADING_MARKS.get(i)
        if mark:
            sup = p.add_run(mark)
            sup.bold = True
            sup.font.size = Pt(8)
            sup.font.superscript = True
        if example:
            p.paragraph_format.space_after = Pt(0)
            ex = cell.add_paragraph()
            ex.add_run(example).font.size = Pt(8)
            ex.alignment = WD_ALIGN_PARAGRAPH.CENTER
            ex.paragraph_format.space_after = Pt(3)
    tr_pr = headings.rows[0]._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))

    end = header.add_paragraph()
    end.paragraph_format.space_after = Pt(0)
    end.paragraph_format.line_spacing = Pt(2)


def _build_footer(section: Any) -> None:
    footer = section.footer
    footer.is_linked_to_previous = False

    def line(first: bool = False) -> Any:
        p = footer.paragraphs[0] if first else footer.add_paragraph(style=footer.paragraphs[0].style)
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        p.paragraph_format.space_before = Pt(1)
        p.paragraph_format.space_after = Pt(1)
        return p

    def note_mark(p: Any, mark: str) -> None:
        p.add_run(mark).font.superscript = True
        p.add_run("\t")

    p = line(first=True)
    p.paragraph_format.tab_stops.add_tab_stop(Twips(284))
    note_mark(p, "1")
    p.add_run("MB").bold = True
    p.add_run(" = Member body / ")
    p.add_run("NC").bold = True
    p.add_run(
        " = National Committee (enter the ISO 3166 two-letter country code, e.g. CN for China; "
        "comments from the ISO/CS editing unit are identified by "
    )
    p.add_run("**").bold = True
    p.add_run(")")

    p = line()
    for pos in (284, 2268, 3969, 5670):
        p.paragraph_format.tab_stops.add_tab_stop(Twips(pos))
    note_mark(p, "2")
    p.add_run("Type of comment:").bold = True
    for code, meaning in (("ge", "general"), ("te", "technical"), ("ed", "editorial")):
        p.add_run("\t")
        p.add_run(code).bold = True
        p.add_run(f" = {meaning}")

    p = line()
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    add_page_of_pages(p)

    p = line()
    note = p.add_run("Layout of the ISO/IEC/CEN/CENELEC electronic balloting commenting template, version 2012-03")
    note.italic = True


# The frame is built once per process with these markers where the ballot's values go; each
# call substitutes the (escaped) values into the few parts that hold them.
_MARK = {
    "title": "@@BALLOTDESK-TITLE@@",
    "date": "@@BALLOTDESK-DATE@@",
    "document": "@@BALLOTDESK-DOCUMENT@@",
    "project": "@@BALLOTDESK-PROJECT@@",
    "core_title": "@@BALLOTDESK-CORE-TITLE@@",
    "core_subject": "@@BALLOTDESK-CORE-SUBJECT@@",
}
_STAMP = datetime(2001, 2, 3, 4, 5, 6)  # written by python-docx as below, replaced by the real time
_STAMP_TEXT = "2001-02-03T04:05:06Z"


def _build_frame_docx() -> bytes:
    doc = Document()
    _drop_extras(doc)
    _setup_styles(doc)

    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width = _PAGE_WIDTH
    section.page_height = _PAGE_HEIGHT
    section.left_margin = section.right_margin = _SIDE_MARGIN
    section.top_margin = section.bottom_margin = _TOP_BOTTOM_MARGIN
    section.header_distance = section.footer_distance = _HEADER_FOOTER_DISTANCE
    marked = TableInfo(date=_MARK["date"], document=_MARK["document"], project=_MARK["project"], title=_MARK["title"])
    _build_header(doc, section, marked)
    _build_footer(section)

    table = doc.add_table(rows=1, cols=len(_COLUMNS))
    _fix_table(table, _WIDTHS)
    for i, cell in enumerate(table.rows[0].cells):
        p = cell.paragraphs[0]
        p.style = doc.styles[_ISO_STYLES[_COLUMNS[i][2]]]
        if i == 0:
            p.add_run(_PLACEHOLDER)
    end = doc.add_paragraph()
    end.paragraph_format.space_after = Pt(0)

    props = doc.core_properties
    props.title = _MARK["core_title"]
    props.subject = _MARK["core_subject"]
    props.author = "Ballotdesk"
    props.last_modified_by = "Ballotdesk"
    props.comments = ""
    props.created = _STAMP
    props.modified = _STAMP
    props.revision = 1

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


@dataclass(frozen=True)
class _Frame:
    # (part name, content): bytes are copied as they are, str parts get the values substituted
    parts: tuple[tuple[str, bytes | str], ...]
    before_row: bytes
    after_row: bytes
    before_table: bytes
    after_table: bytes
    table_break: str  # ends one body table and opens the next (see ROWS_PER_TABLE)


_TR_OPEN = re.compile(r"<w:tr[ >]")
_TBL_OPEN = re.compile(r"<w:tbl[ >]")


def _last_match(pattern: re.Pattern[str], text: str, end: int) -> int:
    start = -1
    for m in pattern.finditer(text, 0, end):
        start = m.start()
    if start < 0:
        raise RuntimeError("comment table frame: placeholder row not found")
    return start


def _split_frame(document_xml: str) -> tuple[str, str, str, str, str]:
    """(before the placeholder row, after it, before the whole table, after the whole table, the
    table's opening up to its first row)."""
    at = document_xml.index(_PLACEHOLDER)
    tr_start = _last_match(_TR_OPEN, document_xml, at)
    tr_end = document_xml.index("</w:tr>", at) + len("</w:tr>")
    tbl_start = _last_match(_TBL_OPEN, document_xml, tr_start)
    tbl_end = document_xml.index("</w:tbl>", tr_end) + len("</w:tbl>")
    return (
        document_xml[:tr_start],
        document_xml[tr_end:],
        document_xml[:tbl_start],
        document_xml[tbl_end:],
        document_xml[tbl_start:tr_start],
    )


# Between two body tables: a paragraph 1 pt high. Without it Word and LibreOffice join adjacent
# tables into one on opening, and the point of splitting is lost.
_TABLE_SEPARATOR = (
    '<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
    '<w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>'
)


def _no_rows_xml() -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="ISOComments"/></w:pPr><w:r><w:t>{escape(_NO_ROWS_TEXT)}</w:t></w:r></w:p>'


@functools.lru_cache(maxsize=1)
def _frame() -> _Frame:
    package = zipfile.ZipFile(io.BytesIO(_build_frame_docx()))
    parts: list[tuple[str, bytes | str]] = []
    pieces: tuple[str, str, str, str, str] | None = None
    for item in package.infolist():
        data = package.read(item)
        if item.filename == "word/document.xml":
            pieces = _split_frame(data.decode("utf-8"))
            parts.append((item.filename, b""))
        elif any(m.encode() in data for m in _MARK.values()):
            parts.append((item.filename, data.decode("utf-8")))
        else:
            parts.append((item.filename, data))
    if pieces is None:
        raise RuntimeError("comment table frame: word/document.xml missing")
    text = "".join(p for _, p in parts if isinstance(p, str))
    missing = [m for m in (*_MARK.values(), _STAMP_TEXT) if m not in text]
    if missing:
        raise RuntimeError(f"comment table frame: markers not written: {missing}")
    before_row, after_row, before_table, after_table = (p.encode("utf-8") for p in pieces[:4])
    table_break = "</w:tbl>" + _TABLE_SEPARATOR + pieces[4]
    return _Frame(tuple(parts), before_row, after_row, before_table, after_table, table_break)


def _field_text(value: str) -> str:
    """A header value on one line, cleaned and escaped."""
    return escape(" ".join(clean_text(value).split()))


def _substitute(text: str, info: TableInfo, stamp: str) -> str:
    values = {
        "title": info.title,
        "date": info.date,
        "document": info.document,
        "project": info.project,
        "core_title": f"{info.document} — compiled comments",
        "core_subject": info.project,
    }
    for key, marker in _MARK.items():
        if marker in text:
            text = text.replace(marker, _field_text(values[key]))
    return text.replace(_STAMP_TEXT, stamp)


def write_comment_table(info: TableInfo, rows: Iterable[TableRow], out: BinaryIO) -> int:
    """Stream a complete .docx into ``out``; return the number of rows written.

    ``rows`` is consumed once, in the order given; only a chunk of a few hundred rows' XML is
    held in memory at a time.
    """
    frame = _frame()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    iterator = iter(rows)
    first = next(iterator, None)
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for name, content in frame.parts:
            if name != "word/document.xml":
                data = content if isinstance(content, bytes) else _substitute(content, info, stamp).encode("utf-8")
                zf.writestr(name, data)
                continue
            with zf.open(name, "w") as stream:
                if first is None:
                    stream.write(frame.before_table + _no_rows_xml().encode("utf-8") + frame.after_table)
                    continue
                stream.write(frame.before_row)
                chunk = [row_xml(first)]
                count = 1
                for row in iterator:
                    if ROWS_PER_TABLE and count % ROWS_PER_TABLE == 0:
                        chunk.append(frame.table_break)
                    chunk.append(row_xml(row))
                    count += 1
                    if len(chunk) >= _CHUNK_ROWS:
                        stream.write("".join(chunk).encode("utf-8"))
                        chunk.clear()
                stream.write("".join(chunk).encode("utf-8"))
                stream.write(frame.after_row)
    return count
