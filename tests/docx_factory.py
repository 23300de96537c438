"""Build .docx files for the reader and safety tests.

Documents are made with python-docx (package, styles, section, page header), and the tables are
written as WordprocessingML text and parsed once, so a 5,000-row file takes a fraction of a
second and every detail of a real committee file can be reproduced: headings in the page header
or in body rows, the 2012-03 (eight columns) and 2001-09 (seven columns) layouts, ``ISO*``
paragraph styles, ``gridSpan``, ``vMerge``, ``gridBefore``/``gridAfter``, tracked insertions and
deletions, hyperlinks, tabs, stray empty paragraphs and a second section with a tool's log.

Cell values are plain strings (``"\\n"`` starts a new paragraph, ``"\\t"`` is a tab) or ``Cell``
objects; a row is a sequence of values or a ``Row``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.sax.saxutils import escape

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.shared import Mm

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NSDECL = f'xmlns:w="{W_NS}"'
SUPERSCRIPT = "\ue000"  # in heading texts: what follows is a superscript footnote marker

HEADINGS_2012: tuple[str, ...] = (
    "MB/NC\ue0001",
    "Line number\n(e.g. 17)",
    "Clause/ Subclause\n(e.g. 3.1)",
    "Paragraph/ Figure/ Table/ Note\n(e.g. Table 1)",
    "Type of comment\ue0002",
    "Comments",
    "Proposed change",
    "Observations of the secretariat",
)
HEADINGS_2001: tuple[str, ...] = (
    "MB\ue0001",
    "Clause/\nSubclause/\nAnnex/Figure/Table\n(e.g. 3.1, Table 2)",
    "Paragraph/\nList item/\nNote/\n(e.g. Note 2)",
    "Type of com-ment\ue0002",
    "Comment (justification for change)",
    "Proposed change",
    "Secretariat observations\non each comment submitted",
)
STYLES_2012 = ("ISOMB", "ISOClause", "ISOClause", "ISOParagraph", "ISOCommType", "ISOComments", "ISOChange",
               "ISOSecretObservations")  # fmt: skip
STYLES_2001 = ("ISOMB", "ISOClause", "ISOParagraph", "ISOCommType", "ISOComments", "ISOChange",
               "ISOSecretObservations")  # fmt: skip
WIDTHS_2012 = (606, 908, 1209, 1209, 1115, 4177, 4233, 2419)
WIDTHS_2001 = (606, 1209, 1209, 1115, 4177, 4233, 3323)

Layout = Literal["2012", "2001"]
Headings = Literal["header", "body", "both", "none"]


@dataclass
class Cell:
    """One ``w:tc``. ``runs`` (kind, text) overrides ``text``: kind "" plain, "ins" a tracked
    insertion, "del" a tracked deletion, "link" a hyperlink, "moveFrom" the source of a move,
    "textbox" a text box anchored in the run, "field" a field code (instrText) with its result."""

    text: str = ""
    span: int = 1
    vmerge: Literal["restart", "continue"] | None = None
    runs: Sequence[tuple[str, str]] | None = None
    style: str | None = None
    nested: Sequence[Sequence[str]] | None = None  # a table inside the cell, after its paragraphs
    content_control: bool = False  # wrap the paragraphs in a block-level w:sdt


@dataclass
class Row:
    cells: Sequence[str | Cell]
    grid_before: int = 0
    grid_after: int = 0


@dataclass
class Spec:
    """Everything ``build`` needs; see ``comment_docx`` for the common cases."""

    rows: Sequence[Sequence[str | Cell] | Row]
    layout: Layout = "2012"
    headings: Headings = "header"
    iso_styles: bool = True
    grid_columns: int | None = None
    header_title: str = "Template for comments and secretariat observations"
    intro: Sequence[str] = ()
    log_section: Sequence[str] = ()
    extra_tables: Sequence[Sequence[Sequence[str]]] = field(default_factory=list)
    body_heading_texts: Sequence[str] | None = None


def comment_docx(rows: Sequence[Sequence[str | Cell] | Row], **options: Any) -> bytes:
    """A filled commenting template as .docx bytes; ``options`` are ``Spec`` fields."""
    return build(Spec(rows=rows, **options))


def row8(
    mb: str = "",
    line: str = "",
    clause: str = "",
    element: str = "",
    type_: str = "",
    comment: str = "",
    change: str = "",
    observation: str = "",
) -> list[str]:
    """A 2012-03 row from keyword values."""
    return [mb, line, clause, element, type_, comment, change, observation]


def many_rows(n: int, mb: str = "DE") -> list[list[str]]:
    """``n`` plausible 2012-03 rows, numbered from 1."""
    types = ("te", "ed", "ge", "TE", "Ed.")
    return [
        row8(
            f"{mb}-{i:03d}",
            str(10 + i % 400),
            f"{1 + i % 9}.{i % 7}",
            "Table 1" if i % 5 == 0 else "",
            types[i % len(types)],
            f"Comment number {i}: the text of this clause is ambiguous and should be clarified.\n"
            "A second paragraph explains why.",
            f"Replace the sentence with the wording proposed in comment {i}.",
            "",
        )
        for i in range(1, n + 1)
    ]


# ---------------------------------------------------------------------------------------------


def build(spec: Spec) -> bytes:
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)

    headings = HEADINGS_2012 if spec.layout == "2012" else HEADINGS_2001
    styles = STYLES_2012 if spec.layout == "2012" else STYLES_2001
    widths = WIDTHS_2012 if spec.layout == "2012" else WIDTHS_2001
    if spec.iso_styles:
        for style_id in dict.fromkeys(styles):
            style = document.styles.add_style(style_id.replace("ISO", "ISO_", 1), WD_STYLE_TYPE.PARAGRAPH)
            style.style_id = style_id

    if spec.headings in ("header", "both"):
        header = section.header
        header.is_linked_to_previous = False
        hdr = header._element
        first = hdr[0] if len(hdr) else None
        title = _table_xml(
            [[spec.header_title, "Date:", "Document:", "Project:"]], widths=(6000, 2000, 3000, 2000), styles=None
        )
        heading_rows: list[Sequence[str | Cell]] = [list(headings)]
        if spec.layout == "2001":
            heading_rows.insert(0, [str(i) for i in range(1, 8)])
        heading_table = _table_xml(heading_rows, widths=widths, styles=None)
        for xml in (title, heading_table):
            el = parse_xml(xml)
            if first is not None:
                first.addprevious(el)
            else:
                hdr.append(el)

    body = document.element.body
    sect_pr = body[-1]
    for text in spec.intro:
        sect_pr.addprevious(parse_xml(f"<w:p {NSDECL}>{_runs_xml([('', text)])}</w:p>"))

    rows: list[Sequence[str | Cell] | Row] = []
    if spec.headings in ("body", "both"):
        texts = list(spec.body_heading_texts or headings)
        if spec.layout == "2001" and spec.body_heading_texts is None:
            rows.append([str(i) for i in range(1, 8)])
        rows.append(texts)
    rows.extend(spec.rows)
    n_cols = spec.grid_columns or max(
        (_grid_width(r) for r in rows),
        default=len(widths),
    )
    col_widths = tuple(widths[i] if i < len(widths) else 900 for i in range(n_cols))
    sect_pr.addprevious(parse_xml(_table_xml(rows, widths=col_widths, styles=styles if spec.iso_styles else None)))
    sect_pr.addprevious(parse_xml(f"<w:p {NSDECL}/>"))
    for table in spec.extra_tables:
        sect_pr.addprevious(parse_xml(_table_xml(table, widths=(3000,) * max(len(r) for r in table), styles=None)))
        sect_pr.addprevious(parse_xml(f"<w:p {NSDECL}/>"))

    if spec.log_section:
        # End the landscape section with a paragraph-level sectPr, then a portrait section holding
        # the collation tool's log as a two-column table.
        landscape = (
            f'<w:p {NSDECL}><w:pPr><w:sectPr><w:pgSz w:w="16840" w:h="11907" w:orient="landscape"/>'
            "</w:sectPr></w:pPr></w:p>"
        )
        sect_pr.addprevious(parse_xml(landscape))
        log_rows = [[line, "Collation successful"] for line in spec.log_section]
        sect_pr.addprevious(parse_xml(_table_xml(log_rows, widths=(6000, 3000), styles=None)))
        sect_pr.addprevious(parse_xml(f"<w:p {NSDECL}/>"))

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _grid_width(row: Sequence[str | Cell] | Row) -> int:
    if isinstance(row, Row):
        return row.grid_before + row.grid_after + sum(c.span if isinstance(c, Cell) else 1 for c in row.cells)
    return sum(c.span if isinstance(c, Cell) else 1 for c in row)


def _runs_xml(runs: Iterable[tuple[str, str]]) -> str:
    parts: list[str] = []
    for i, (kind, text) in enumerate(runs):
        if kind == "del":
            parts.append(
                f'<w:del w:id="{900 + i}" w:author="Test" w:date="2024-01-01T00:00:00Z"><w:r>'
                f'<w:delText xml:space="preserve">{escape(text)}</w:delText></w:r></w:del>'
            )
            continue
        pieces = []
        for j, piece in enumerate(text.split("\t")):
            if j:
                pieces.append("<w:tab/>")
            if piece:
                pieces.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
        run = f"<w:r>{''.join(pieces)}</w:r>"
        if kind == "ins":
            run = f'<w:ins w:id="{900 + i}" w:author="Test" w:date="2024-01-01T00:00:00Z">{run}</w:ins>'
        elif kind == "moveFrom":
            run = f'<w:moveFrom w:id="{900 + i}" w:author="Test" w:date="2024-01-01T00:00:00Z">{run}</w:moveFrom>'
        elif kind == "link":
            run = f'<w:hyperlink w:anchor="target">{run}</w:hyperlink>'
        elif kind == "textbox":
            run = (
                f"<w:r><w:pict><w:txbxContent><w:p><w:r><w:t>{escape(text)}</w:t></w:r></w:p>"
                "</w:txbxContent></w:pict></w:r>"
            )
        elif kind == "field":
            run = (
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
                f'{run}<w:r><w:fldChar w:fldCharType="end"/></w:r>'
            )
        parts.append(run)
    return "".join(parts)


def _heading_runs(text: str) -> str:
    """Heading text; "MB/NC\ue0001" writes the footnote marker 1 as a superscript run."""
    if "|" in text:
        main, mark = text.split("|", 1)
        return (
            f'<w:r><w:t xml:space="preserve">{escape(main)}</w:t></w:r>'
            f'<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:t>{escape(mark)}</w:t></w:r>'
        )
    return _runs_xml([("", text)])


def _cell_xml(value: str | Cell, width: int, style: str | None) -> str:
    cell = value if isinstance(value, Cell) else Cell(text=value)
    props = [f'<w:tcW w:w="{width}" w:type="dxa"/>']
    if cell.span > 1:
        props.append(f'<w:gridSpan w:val="{cell.span}"/>')
    if cell.vmerge == "restart":
        props.append('<w:vMerge w:val="restart"/>')
    elif cell.vmerge == "continue":
        props.append("<w:vMerge/>")
    style = cell.style or style
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    if cell.runs is not None:
        paragraphs = [f"<w:p>{ppr}{_runs_xml(cell.runs)}</w:p>"]
    else:
        paragraphs = [f"<w:p>{ppr}{_heading_runs(line)}</w:p>" for line in cell.text.split("\n")]
    content = "".join(paragraphs)
    if cell.content_control:
        content = f'<w:sdt><w:sdtPr><w:alias w:val="cc"/></w:sdtPr><w:sdtContent>{content}</w:sdtContent></w:sdt>'
    if cell.nested is not None:
        content += _table_xml(cell.nested, widths=(500,) * max(len(r) for r in cell.nested), styles=None).replace(
            f" {NSDECL}", ""
        )
        content += "<w:p/>"
    return f"<w:tc><w:tcPr>{''.join(props)}</w:tcPr>{content}</w:tc>"


def _table_xml(
    rows: Sequence[Sequence[str | Cell] | Row], *, widths: Sequence[int], styles: Sequence[str] | None
) -> str:
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    out = [
        f'<w:tbl {NSDECL}><w:tblPr><w:tblW w:w="0" w:type="auto"/><w:tblLayout w:type="fixed"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>"
    ]
    for row in rows:
        cells = row.cells if isinstance(row, Row) else row
        before = row.grid_before if isinstance(row, Row) else 0
        after = row.grid_after if isinstance(row, Row) else 0
        tr_pr = ""
        if before or after:
            tr_pr = "<w:trPr>"
            if before:
                tr_pr += f'<w:gridBefore w:val="{before}"/>'
            if after:
                tr_pr += f'<w:gridAfter w:val="{after}"/>'
            tr_pr += "</w:trPr>"
        col = before
        tcs = []
        for value in cells:
            span = value.span if isinstance(value, Cell) else 1
            width = sum(widths[c] if c < len(widths) else 900 for c in range(col, col + span))
            style = styles[col] if styles is not None and col < len(styles) else None
            tcs.append(_cell_xml(value, width, style))
            col += span
        out.append(f"<w:tr>{tr_pr}{''.join(tcs)}</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Raw zip surgery for the safety tests
# ---------------------------------------------------------------------------------------------


def rezip(
    data: bytes,
    *,
    replace: Mapping[str, bytes | None] | None = None,
    add: Mapping[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """Copy the zip ``data``, replacing (or, with None, dropping) some entries and adding others."""
    replace = dict(replace or {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for info in src.infolist():
            if info.filename in replace:
                new = replace.pop(info.filename)
                if new is not None:
                    dst.writestr(info.filename, new)
                continue
            dst.writestr(info.filename, src.read(info))
        for name, content in {**{k: v for k, v in replace.items() if v is not None}, **(add or {})}.items():
            dst.writestr(name, content)
    return out.getvalue()


def read_part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name)
