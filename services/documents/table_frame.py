"""The comment table's frame, built with python-docx: styles, section and a placeholder row; the page
header and footer are written as WordprocessingML after the template's own (to the twip)."""

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
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt, Twips

from services.documents.frame import drop_template_extras, use_one_font
from services.documents.table_vocabulary import (
    _CELL_MARGIN,
    _COLUMNS,
    _HEADER_FOOTER_DISTANCE,
    _HEADING_MARKS,
    _ISO_STYLES,
    _MARGIN,
    _PAGE_HEIGHT,
    _PAGE_WIDTH,
    _TITLE_WIDTHS,
    _WIDTHS,
    FORM_LINE,
)

__all__ = ["TableInfo"]


@dataclass(frozen=True)
class TableInfo:
    date: str  # e.g. "2026-11-25": the close date of a closed ballot, else the day the file was built
    document: str  # e.g. "ISO/DIS 11367"
    project: str  # the project reference, e.g. "ISO 11367"
    # Shown after the reference, in regular type, only where both fit the cell's one line.
    project_title: str = ""
    # The ballot is still open: the table holds the comments received so far.
    comments_so_far: bool = False
    title: str = "Template for comments and secretariat observations"


_PLACEHOLDER = "BALLOTDESK-ROW-PLACEHOLDER-5b0e2f"
_BORDER = 'w:val="single" w:sz="6" w:space="0" w:color="auto"'


def _tbl_pr(width: int, *, inside_h: bool = True) -> str:
    inside = f"<w:insideH {_BORDER}/>" if inside_h else ""
    return (
        f'<w:tblPr><w:tblW w:w="{width}" w:type="dxa"/><w:jc w:val="center"/>'
        f"<w:tblBorders><w:top {_BORDER}/><w:left {_BORDER}/><w:bottom {_BORDER}/><w:right {_BORDER}/>"
        f"{inside}<w:insideV {_BORDER}/></w:tblBorders>"
        '<w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:left w:w="{_CELL_MARGIN}" w:type="dxa"/>'
        f'<w:right w:w="{_CELL_MARGIN}" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0"'
        ' w:noHBand="0" w:noVBand="0"/>'
        "</w:tblPr>"
    )


def _grid(widths: tuple[int, ...]) -> str:
    return "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>"


def _fix_table(table: Any, widths: tuple[int, ...]) -> None:
    """Fixed layout, explicit grid and cell widths, our borders (no table style)."""
    tbl = table._tbl
    tbl.remove(tbl.tblPr)
    tbl.insert(0, parse_xml(_tbl_pr(sum(widths)).replace("<w:tblPr>", f"<w:tblPr {nsdecls('w')}>", 1)))
    table.autofit = False
    for column, w in zip(table.columns, widths, strict=True):
        column.width = Twips(w)
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = Twips(w)


def _setup_styles(doc: Any) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(0)
    for style_id, name in _ISO_STYLES.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.style_id = style_id
        style.base_style = normal
        style.font.size = Pt(9)
        fmt = style.paragraph_format
        fmt.alignment = WD_ALIGN_PARAGRAPH.LEFT
        fmt.space_before = Pt(3)
        fmt.space_after = Pt(3)
        fmt.line_spacing = 1.0
    for name in ("Header", "Footer"):
        style = styles[name]
        style.font.size = Pt(11)  # the template's: its header's spacer paragraphs are this tall
        tabs = style.element.pPr.find(qn("w:tabs"))
        if tabs is not None:  # python-docx's centre and right tabs; each footer line sets its own
            style.element.pPr.remove(tabs)
    use_one_font(doc)


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


# --- the page header, as the template's (word/header2.xml) -------------------------------------


def _run(text: str, props: str = "", *, preserve: bool = False) -> str:
    space = ' xml:space="preserve"' if preserve or text[:1] == " " or text[-1:] == " " else ""
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    return f"<w:r>{rpr}<w:t{space}>{text}</w:t></w:r>"


def _title_cell(width: int, borders: str, style: str, runs: str, mark_size: str = "") -> str:
    # The template's title cells take the ISO styles' exact 10.5-pt line (its body rows do not).
    mark = f"<w:rPr>{mark_size}</w:rPr>" if mark_size else ""
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:tcBorders>{borders}</w:tcBorders></w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="{style}"/>'
        f'<w:spacing w:before="60" w:after="60" w:line="210" w:lineRule="exact"/>{mark}</w:pPr>'
        f"{runs}</w:p></w:tc>"
    )


def _title_table(info: TableInfo) -> str:
    w = _TITLE_WIDTHS
    no = '<w:top w:val="nil"/><w:left w:val="nil"/><w:bottom w:val="nil"/><w:right w:val="nil"/>'
    top_bottom = f"<w:top {_BORDER}/><w:bottom {_BORDER}/>"
    size10 = '<w:sz w:val="20"/>'
    cells = (
        _title_cell(w[0], no, "ISOComments", _run(info.title, '<w:b/><w:sz w:val="22"/>')),
        _title_cell(
            w[1],
            f"<w:top {_BORDER}/><w:left {_BORDER}/><w:bottom {_BORDER}/>",
            "ISOChange",
            _run("Date: ") + _run(info.date, "<w:b/>"),
        ),
        _title_cell(
            w[2],
            top_bottom,
            "ISOSecretObservations",
            _run("Document:", size10) + _run(" " + info.document, "<w:b/>" + size10),
            size10,
        ),
        _title_cell(
            w[3],
            top_bottom,
            "ISOSecretObservations",
            _run("Project:", size10)
            + _run(" " + info.project, "<w:b/>" + size10)
            # The marker stands for " title" or nothing (see comment_table.project_title_shown).
            + _run(info.project_title, size10, preserve=True),
            size10,
        ),
    )
    return (
        f"<w:tbl>{_tbl_pr(sum(w), inside_h=False)}{_grid(w)}"
        '<w:tr><w:trPr><w:cantSplit/><w:jc w:val="center"/></w:trPr>' + "".join(cells) + "</w:tr></w:tbl>"
    )


_HEADING_P = '<w:pPr><w:keepLines/><w:spacing w:before="100" w:after="{after}" w:line="190" w:lineRule="exact"/>'
_EXAMPLE_P = '<w:pPr><w:keepLines/><w:spacing w:after="60" w:line="190" w:lineRule="exact"/>'
_BOLD8 = '<w:b/><w:sz w:val="16"/>'
_EXAMPLE_R = '<w:bCs/><w:sz w:val="16"/>'


def _heading_cell(i: int) -> str:
    heading, example, _style, width = _COLUMNS[i]
    after = "0" if i == 3 else "60"  # the template's "Paragraph/ Figure/ Table/" sits closer to its example
    centred = f'<w:jc w:val="center"/><w:rPr>{_BOLD8}</w:rPr></w:pPr>'
    runs = _run(heading, _BOLD8)
    mark = _HEADING_MARKS.get(i)
    if mark:  # the footnote mark: 6-pt bold, raised 3 pt, as the template sets it
        runs += _run(mark, '<w:b/><w:bCs/><w:position w:val="6"/><w:sz w:val="12"/>')
    paragraphs = f"<w:p>{_HEADING_P.format(after=after)}{centred}{runs}</w:p>"
    if example:
        paragraphs += f"<w:p>{_EXAMPLE_P}{centred}{_run(example, _EXAMPLE_R)}</w:p>"
    return f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{paragraphs}</w:tc>'


def _headings_table() -> str:
    cells = "".join(_heading_cell(i) for i in range(len(_COLUMNS)))
    return (
        f"<w:tbl>{_tbl_pr(sum(_WIDTHS))}{_grid(_WIDTHS)}"
        f'<w:tr><w:trPr><w:cantSplit/><w:jc w:val="center"/></w:trPr>{cells}</w:tr></w:tbl>'
    )


def _header_xml(info: TableInfo) -> str:
    return (
        _title_table(info)
        + '<w:p><w:pPr><w:pStyle w:val="Header"/></w:pPr></w:p>'
        + _headings_table()
        + '<w:p><w:pPr><w:pStyle w:val="Header"/><w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>'
        + '<w:p><w:pPr><w:pStyle w:val="Header"/><w:spacing w:line="14" w:lineRule="exact"/>'
        '<w:rPr><w:sz w:val="4"/></w:rPr></w:pPr></w:p>'
    )


# --- the page footer, as the template's (word/footer2.xml) -------------------------------------

_SZ8 = '<w:sz w:val="16"/>'
_B8 = '<w:b/><w:sz w:val="16"/>'


def _footer_p(tabs: tuple[int, ...], runs: str, *, align: str = "left", spacing: bool = True) -> str:
    tab_xml = "<w:tabs>" + "".join(f'<w:tab w:val="left" w:pos="{t}"/>' for t in tabs) + "</w:tabs>" if tabs else ""
    space = '<w:spacing w:before="20" w:after="20"/>' if spacing else ""
    return (
        f'<w:p><w:pPr><w:pStyle w:val="Footer"/>{tab_xml}{space}<w:jc w:val="{align}"/>'
        f"<w:rPr>{_SZ8}</w:rPr></w:pPr>{runs}</w:p>"
    )


def _tab() -> str:
    return f"<w:r><w:rPr>{_SZ8}</w:rPr><w:tab/></w:r>"


def _field_runs(instruction: str) -> str:
    def r(inner: str) -> str:
        return f"<w:r><w:rPr>{_SZ8}</w:rPr>{inner}</w:r>"

    return (
        r('<w:fldChar w:fldCharType="begin"/>')
        + r(f'<w:instrText xml:space="preserve"> {instruction} </w:instrText>')
        + r('<w:fldChar w:fldCharType="separate"/>')
        + r("<w:t>1</w:t>")
        + r('<w:fldChar w:fldCharType="end"/>')
    )


def _footer_xml() -> str:
    # The footnote numbers are full-size, as in the template; only the headings raise them.
    bodies = _footer_p(
        (284, 3969),
        _run("1", _SZ8)
        + _tab()
        + _run("MB", _B8)
        + _run(" = Member body / ", _SZ8)
        + _run("NC", _B8)
        + _run(
            " = National Committee (enter the ISO 3166 two-letter country code, e.g. CN for China; "
            "comments from the ISO/CS editing unit are identified by ",
            _SZ8,
        )
        + _run("**", _B8)
        + _run(")", _SZ8),
    )
    types = _run("2", _SZ8) + _tab() + _run("Type of comment:", _B8)
    for code, meaning in (("ge", "general"), ("te", "technical"), ("ed", "editorial")):
        types += _tab() + _run(code, _B8) + _run(f" = {meaning}", _SZ8)
    kinds = _footer_p((284, 1843, 2268, 3119, 4395), types)
    pages = _footer_p(
        (),
        _run("page ", _SZ8) + _field_runs("PAGE") + _run(" of ", _SZ8) + _field_runs("NUMPAGES"),
        align="right",
        spacing=False,
    )
    form = _footer_p((), _run(FORM_LINE, '<w:i/><w:iCs/><w:sz w:val="16"/>'), spacing=False)
    return bodies + kinds + pages + form


def _replace_content(part_element: Any, xml: str) -> None:
    for child in list(part_element):
        part_element.remove(child)
    wrapper = parse_xml(f"<w:hdr {nsdecls('w')}>{xml}</w:hdr>")
    for child in list(wrapper):
        part_element.append(child)


# The frame is built once per process with these markers where the ballot's values go; each
# call substitutes the (escaped) values into the few parts that hold them.
_MARK = {
    "title": "@@BALLOTDESK-TITLE@@",
    "date": "@@BALLOTDESK-DATE@@",
    "document": "@@BALLOTDESK-DOCUMENT@@",
    "project": "@@BALLOTDESK-PROJECT@@",
    "project_title": "@@BALLOTDESK-PROJECT-TITLE@@",
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
    section.page_width = Twips(_PAGE_WIDTH)
    section.page_height = Twips(_PAGE_HEIGHT)
    section.left_margin = section.right_margin = Twips(_MARGIN)
    section.top_margin = section.bottom_margin = Twips(_MARGIN)
    section.header_distance = section.footer_distance = Twips(_HEADER_FOOTER_DISTANCE)
    marked = TableInfo(
        date=_MARK["date"],
        document=_MARK["document"],
        project=_MARK["project"],
        project_title=_MARK["project_title"],
        title=_MARK["title"],
    )
    section.header.is_linked_to_previous = False
    _replace_content(section.header._element, _header_xml(marked))
    section.footer.is_linked_to_previous = False
    _replace_content(section.footer._element, _footer_xml())

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
