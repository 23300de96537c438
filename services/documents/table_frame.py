"""The comment table's frame, built with python-docx: styles, section, header, footer and a placeholder row."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt, Twips

from services.documents.frame import add_page_of_pages, drop_template_extras
from services.documents.table_vocabulary import (
    _CELL_MARGIN_TWIPS,
    _COLUMNS,
    _HEADER_FOOTER_DISTANCE,
    _HEADING_MARKS,
    _ISO_STYLES,
    _PAGE_HEIGHT,
    _PAGE_WIDTH,
    _SIDE_MARGIN,
    _TITLE_WIDTHS,
    _TOP_BOTTOM_MARGIN,
    _WIDTHS,
)
from services.documents.xmltext import clean_text

__all__ = ["TableInfo"]


@dataclass(frozen=True)
class TableInfo:
    date: str  # e.g. "2026-11-25"
    document: str  # e.g. "ISO/DIS 11367"
    project: str  # e.g. "ISO 11367 Service excellence — Principles and model for public service organizations"
    title: str = "Template for comments and secretariat observations"


_PLACEHOLDER = "BALLOTDESK-ROW-PLACEHOLDER-5b0e2f"
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
