"""The compiled comment table (SPEC §4.1): layout, cell contents, escaping, streaming."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Length

from services.documents.comment_table import ROWS_PER_TABLE, write_comment_table
from services.documents.table_frame import TableInfo
from services.documents.table_rows import TableRow
from services.documents.table_vocabulary import COLUMN_HEADINGS
from tests import SHARED

INFO = TableInfo(
    date="2026-11-25",
    document="ISO/DIS 11367",
    project="ISO 11367",
    project_title="Service excellence — Principles and model for public service organizations",
)
HEADINGS = [
    "MB/NC",
    "Line number",
    "Clause/ Subclause",
    "Paragraph/ Figure/ Table/",
    "Type of comment",
    "Comments",
    "Proposed change",
    "Observations of the secretariat",
]
CELL_STYLES = [
    "ISOMB",
    "ISOClause",
    "ISOClause",
    "ISOParagraph",
    "ISOCommType",
    "ISOComments",
    "ISOChange",
    "ISOSecretObservations",
]
# The official 2012-03 template's body grid and title row, in twips.
ISO_GRID = [606, 908, 1209, 1209, 1115, 4177, 4233, 2419]
ISO_TITLE_GRID = [7740, 2410, 3119, 2607]
REFERENCE = SHARED / "reference"
TEMPLATE = REFERENCE / "iso_comment_template_2012-03.docx"
FORM_LINE = "ISO/IEC/CEN/CENELEC electronic balloting commenting template/version 2012-03"


def row(n: int = 1, **changes: Any) -> TableRow:
    values: dict[str, Any] = {
        "body": "DE",
        "reference": f"DE-{n:03d}",
        "line": str(10 + n),
        "clause": f"3.{n}",
        "element": "Table 1",
        "type": "te",
        "comment": f"Comment number {n}.",
        "proposed_change": f"Change number {n}.",
        "observation": "",
        "disposition": None,
    }
    values.update(changes)
    return TableRow(**values)


def build(rows: Any, info: TableInfo = INFO) -> tuple[Any, bytes, int]:
    buf = io.BytesIO()
    count = write_comment_table(info, rows, buf)
    data = buf.getvalue()
    return docx.Document(io.BytesIO(data)), data, count


def part(data: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")


def paragraphs(cell: Any) -> list[str]:
    return [p.text for p in cell.paragraphs]


def body_table(document: Any) -> Any:
    assert len(document.tables) == 1
    return document.tables[0]


def body_rows(document: Any) -> list[Any]:
    """The data rows of all body tables, in order (the body is split every ROWS_PER_TABLE rows)."""
    return [r for table in document.tables for r in table.rows]


# --- page, header, footer -------------------------------------------------------------------


def test_the_table_is_on_a4_landscape_pages() -> None:
    document, _, _ = build([row()])
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.page_width > section.page_height
    assert section.page_width.mm == pytest.approx(297, abs=0.5)
    assert section.page_height.mm == pytest.approx(210, abs=0.5)


def test_the_page_header_holds_the_title_and_the_date_document_and_project() -> None:
    document, _, _ = build([row()])
    header = document.sections[0].header
    assert not header.is_linked_to_previous
    title_row = [c.text for c in header.tables[0].rows[0].cells]
    assert title_row == [
        "Template for comments and secretariat observations",
        "Date: 2026-11-25",
        "Document: ISO/DIS 11367",
        "Project: ISO 11367",  # the title would wrap the cell: left out
    ]


def grid(table: Any) -> list[int]:
    return [int(g.get(qn("w:w"))) for g in table._tbl.tblGrid.findall(qn("w:gridCol"))]


def test_the_title_row_has_the_templates_widths() -> None:
    document, _, _ = build([row()])
    header = document.sections[0].header
    assert grid(header.tables[0]) == ISO_TITLE_GRID
    widths = [int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for tc in header.tables[0]._tbl.tr_lst[0].tc_lst]
    assert widths == ISO_TITLE_GRID
    assert header.tables[0]._tbl.tr_lst[0].trPr.find(qn("w:cantSplit")) is not None


def test_the_project_cell_holds_the_reference_in_bold_and_a_title_only_if_it_fits() -> None:
    short = TableInfo(date="2026-11-25", document="ISO/DIS 11367", project="ISO 11367", project_title="Tea")
    document, _, _ = build([row()], short)
    cell = document.sections[0].header.tables[0].rows[0].cells[3]
    assert cell.text == "Project: ISO 11367 Tea"
    runs = [(r.text, bool(r.bold)) for r in cell.paragraphs[0].runs]
    assert runs == [("Project:", False), (" ISO 11367", True), (" Tea", False)]
    document, _, _ = build([row()])  # INFO's title is far longer than the line
    assert document.sections[0].header.tables[0].rows[0].cells[3].text == "Project: ISO 11367"
    assert "Service excellence" not in document.sections[0].header.tables[0].rows[0].cells[3].text


def test_the_core_properties_carry_the_whole_project_title() -> None:
    _, data, _ = build([row()])
    core = part(data, "docProps/core.xml")
    assert "ISO 11367 Service excellence — Principles and model for public service organizations" in core


def test_the_page_header_holds_the_eight_column_headings_in_order() -> None:
    document, _, _ = build([row()])
    cells = document.sections[0].header.tables[1].rows[0].cells
    # First paragraph of each heading cell; the footnote marks ¹ and ² are raised runs.
    first = [c.paragraphs[0].text for c in cells]
    assert [re.sub(r"[12]$", "", t) for t in first] == HEADINGS
    assert first[0] == "MB/NC1" and first[4] == "Type of comment2"
    assert list(COLUMN_HEADINGS) == HEADINGS
    examples = [c.paragraphs[1].text if len(c.paragraphs) > 1 else "" for c in cells]
    assert examples == ["", "(e.g. 17)", "(e.g. 3.1)", "(e.g. Table 1)", "", "", "", ""]
    # The marks as the template sets them: 6-pt bold, raised 3 pt (not Word's superscript).
    mark = cells[0].paragraphs[0].runs[-1]._r
    assert mark.rPr.find(qn("w:position")).get(qn("w:val")) == "6"
    assert mark.rPr.find(qn("w:sz")).get(qn("w:val")) == "12"
    assert mark.rPr.find(qn("w:vertAlign")) is None


def test_the_headings_are_in_the_page_header_so_every_page_repeats_them() -> None:
    document, data, _ = build([row(n) for n in range(1, 4)])
    # Nothing in the body marks a repeating header row: the body table holds data rows only.
    assert "tblHeader" not in part(data, "word/document.xml")
    assert body_table(document).rows[0].cells[0].text == "DE-001"
    # One header for all pages: no separate first-page or even-page header.
    section = document.sections[0]
    assert not section.different_first_page_header_footer
    assert not document.settings.odd_and_even_pages_header_footer


def test_the_footer_holds_both_footnotes_and_page_x_of_y() -> None:
    document, data, _ = build([row()])
    text = "\n".join(p.text for p in document.sections[0].footer.paragraphs)
    assert (
        "MB = Member body / NC = National Committee (enter the ISO 3166 two-letter country code, "
        "e.g. CN for China; comments from the ISO/CS editing unit are identified by **)"
    ) in text
    assert re.search(r"Type of comment:\s+ge = general\s+te = technical\s+ed = editorial", text)
    footer_xml = "".join(
        part(data, name) for name in zipfile.ZipFile(io.BytesIO(data)).namelist() if name.startswith("word/footer")
    )
    fields = re.findall(r"<w:instrText[^>]*>\s*(\w+)\s*</w:instrText>", footer_xml)
    fields += re.findall(r'<w:fldSimple w:instr="\s*(\w+)', footer_xml)
    assert "PAGE" in fields and "NUMPAGES" in fields
    assert "page " in text and " of " in text


def test_the_footer_reads_as_the_templates_with_full_size_footnote_numbers() -> None:
    document, _, _ = build([row()])
    footer = document.sections[0].footer.paragraphs
    assert footer[-1].text == FORM_LINE
    assert all(r.italic for r in footer[-1].runs)
    assert "Layout of" not in "\n".join(p.text for p in footer)
    for paragraph, number in ((footer[0], "1"), (footer[1], "2")):
        first = paragraph.runs[0]
        assert first.text == number
        assert first.font.superscript is not True
        assert first._r.rPr.find(qn("w:position")) is None
        assert first.font.size.pt == 8  # the size of the text beside it


def test_the_page_has_the_templates_margins() -> None:
    document, _, _ = build([row()])
    section = document.sections[0]
    assert (section.page_width.twips, section.page_height.twips) == (16840, 11907)
    margins = (section.left_margin, section.right_margin, section.top_margin, section.bottom_margin)
    assert [m.twips for m in margins] == [851, 851, 851, 851]
    assert section.header_distance.twips == section.footer_distance.twips == 567


# --- the body table -------------------------------------------------------------------------


def test_the_body_table_has_one_row_per_comment_in_the_given_order() -> None:
    rows = [
        row(3, body="FR", reference="FR-003", clause="A.1", type="ed"),
        row(1, clause="General", line="", element=""),
        row(2, body="**", reference="**-001", type="Ed/te"),
    ]
    document, _, count = build(iter(rows))
    table = body_table(document)
    assert count == 3
    assert len(table.rows) == 3
    texts = [[c.text for c in r.cells] for r in table.rows]
    assert texts[0] == ["FR-003", "13", "A.1", "Table 1", "ed", "Comment number 3.", "Change number 3.", ""]
    assert texts[1] == ["DE-001", "", "General", "", "te", "Comment number 1.", "Change number 1.", ""]
    assert texts[2][0] == "**-001"
    assert texts[2][4] == "Ed/te"


def test_the_mb_cell_holds_the_reference_alone_as_iso_collation_output_does() -> None:
    document, _, _ = build([row(7), row(8, body="CEN/TC 465", reference="CEN/TC 465-002"), row(9, reference="")])
    cells = [r.cells[0] for r in body_table(document).rows]
    assert [paragraphs(c) for c in cells] == [["DE-007"], ["CEN/TC 465-002"], ["DE"]]


def test_data_cells_carry_the_iso_paragraph_styles() -> None:
    document, _, _ = build([row(observation="Why.", disposition="noted")])
    cells = body_table(document).rows[0].cells
    assert [c.paragraphs[0].style.style_id for c in cells] == CELL_STYLES
    assert all(p.style.style_id == "ISOSecretObservations" for p in cells[7].paragraphs)
    names = {s.name for s in document.styles}
    assert {"ISO_MB", "ISO_Clause", "ISO_Paragraph", "ISO_Comm_Type", "ISO_Comments", "ISO_Change"} <= names


def test_the_table_has_the_iso_templates_fixed_column_widths() -> None:
    document, _, _ = build([row(1), row(2)])
    tbl = body_table(document)._tbl
    assert tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    assert grid(body_table(document)) == ISO_GRID
    for tr in tbl.tr_lst:
        widths = [int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for tc in tr.tc_lst]
        assert widths == ISO_GRID
    # As in the template, the tables are wider than the text and centred into the margins.
    section = document.sections[0]
    assert sum(ISO_GRID) > Length(section.page_width - section.left_margin - section.right_margin).twips
    assert tbl.tblPr.find(qn("w:jc")).get(qn("w:val")) == "center"
    # The headings table in the page header uses the same grid.
    assert grid(section.header.tables[1]) == ISO_GRID


def cant_split(tr: Any) -> bool:
    return tr.trPr is not None and tr.trPr.find(qn("w:cantSplit")) is not None


def test_each_row_is_kept_on_one_page() -> None:
    rows = [row(1), row(2, comment="A longer comment. " * 60, observation="Line\n" * 20)]
    document, _, _ = build(rows)
    assert all(cant_split(tr) for tr in body_table(document)._tbl.tr_lst)


def test_a_row_taller_than_a_page_may_break_across_pages() -> None:
    document, _, _ = build([row(1), row(2, comment="word " * 2000), row(3, proposed_change="x\n" * 80), row(4)])
    assert [cant_split(tr) for tr in body_table(document)._tbl.tr_lst] == [True, False, False, True]


def test_each_line_of_a_text_becomes_its_own_paragraph_and_tabs_become_tab_elements() -> None:
    document, data, _ = build([row(comment="First line\nsecond line\r\nthird\rfourth", proposed_change="a\tb\n\nc")])
    cells = body_table(document).rows[0].cells
    assert paragraphs(cells[5]) == ["First line", "second line", "third", "fourth"]
    assert paragraphs(cells[6]) == ["a\tb", "", "c"]
    assert "<w:tab/>" in part(data, "word/document.xml")


def test_the_disposition_in_words_is_the_first_paragraph_of_the_observation() -> None:
    words = {
        "accepted": "Accepted",
        "accepted_in_principle": "Accepted in principle",
        "partially_accepted": "Partially accepted",
        "noted": "Noted",
        "rejected": "Rejected",
        "withdrawn": "Withdrawn",
    }
    rows = [row(i, disposition=d, observation="Reason one.\nReason two.") for i, d in enumerate(words, 1)]
    rows += [row(10, disposition="accepted", observation=""), row(11, disposition=None, observation="Open.\nTo do.")]
    document, _, _ = build(rows)
    observations = [paragraphs(r.cells[7]) for r in body_table(document).rows]
    for got, expected in zip(observations, words.values(), strict=False):
        assert got == [expected, "Reason one.", "Reason two."]
    assert observations[6] == ["Accepted"]
    assert observations[7] == ["Open.", "To do."]


def test_an_observation_that_opens_with_its_disposition_writes_it_once() -> None:
    rows = [
        row(1, disposition="accepted", observation="Accepted: the text is changed."),
        row(2, disposition="rejected", observation="Rejected.\nThe intent is clear."),
        row(3, disposition="accepted_in_principle", observation="Accepted in principle — reworded."),
        # Another disposition's words, or the same word inside a sentence, are not the disposition.
        row(4, disposition="accepted", observation="Rejected at first; now agreed."),
        row(5, disposition="noted", observation="Accepted"),
        row(6, disposition="accepted", observation="Accepted in principle: see 3.2."),
        # A synonym the upload reader understands is still the secretariat's own wording.
        row(7, disposition="accepted", observation="Agreed."),
    ]
    document, _, _ = build(rows)
    observations = [paragraphs(r.cells[7]) for r in body_table(document).rows]
    assert observations == [
        ["Accepted: the text is changed."],
        ["Rejected.", "The intent is clear."],
        ["Accepted in principle — reworded."],
        ["Accepted", "Rejected at first; now agreed."],
        ["Noted", "Accepted"],
        ["Accepted", "Accepted in principle: see 3.2."],
        ["Accepted", "Agreed."],
    ]


def test_markup_characters_round_trip_and_illegal_control_characters_are_removed() -> None:
    tricky = "a < b > c & d \"quoted\" 'single' </w:t> &amp;"
    rows = [
        row(
            body="D&E",
            reference="D<E>-001",
            line=tricky,
            clause="\x00 3.1\x0b",
            element="Table\x1f 1\ufffe",
            type="te\x0c",
            comment=tricky + "\x00\x0b",
            proposed_change="\ud800" + tricky,
            observation=tricky,
            disposition="rejected",
        )
    ]
    document, data, _ = build(rows, TableInfo(date="2026-11-25", document="ISO/DIS <1> & \x00", project='"P" & <Q>'))
    cells = [c.text for c in body_table(document).rows[0].cells]
    assert cells == ["D<E>-001", tricky, " 3.1", "Table 1", "te", tricky, tricky, "Rejected\n" + tricky]
    header = [c.text for c in document.sections[0].header.tables[0].rows[0].cells]
    assert header[2] == "Document: ISO/DIS <1> &"
    assert header[3] == 'Project: "P" & <Q>'
    xml = part(data, "word/document.xml")
    assert "\x00" not in xml and "\x0b" not in xml
    assert "&lt;/w:t&gt;" in xml


def test_leading_and_trailing_spaces_are_preserved() -> None:
    document, data, _ = build([row(comment="  indented", proposed_change="trailing  ", observation="a  b")])
    cells = body_table(document).rows[0].cells
    assert cells[5].text == "  indented"
    assert cells[6].text == "trailing  "
    assert cells[7].text == "a  b"
    assert part(data, "word/document.xml").count('xml:space="preserve"') == 3


def test_an_empty_input_gives_a_valid_file_without_data_rows() -> None:
    document, data, count = build(iter(()))
    assert count == 0
    # A table without rows is a damaged file to Word, so the body says there are none instead.
    assert len(document.tables) == 0
    assert "No comments were submitted." in [p.text for p in document.paragraphs]
    assert "<w:tr" not in part(data, "word/document.xml")
    assert len(document.sections[0].header.tables) == 2


def test_the_package_is_lean_and_well_formed() -> None:
    _, data, _ = build([row()])
    package = zipfile.ZipFile(io.BytesIO(data))
    assert package.testzip() is None
    names = package.namelist()
    assert names[0] == "[Content_Types].xml"
    assert "docProps/thumbnail.jpeg" not in names
    assert "word/stylesWithEffects.xml" not in names
    assert len(names) == len(set(names))
    assert "Ballotdesk" in part(data, "docProps/core.xml")
    assert len(data) < 40_000


def test_a_20000_row_generator_is_streamed_into_a_file_that_python_docx_opens() -> None:
    consumed = 0

    def rows() -> Iterator[TableRow]:
        nonlocal consumed
        filler = "The requirement in this clause is ambiguous; clarify the scope & intent. " * 5
        for n in range(1, 20_001):
            consumed += 1
            yield row(n, reference=f"DE-{n:05d}", comment=f"{n}: {filler}", proposed_change="Reword.")

    with tempfile.TemporaryFile() as out:
        count = write_comment_table(INFO, rows(), out)
        out.seek(0)
        document = docx.Document(out)
    assert count == consumed == 20_000
    assert len(document.tables) == 20_000 // ROWS_PER_TABLE
    rows_read = body_rows(document)
    assert len(rows_read) == 20_000
    assert rows_read[0].cells[0].text == "DE-00001"
    assert rows_read[-1].cells[0].text == "DE-20000"
    assert rows_read[-1].cells[5].text.startswith("20000: The requirement")
    assert [r.cells[0].text for r in rows_read[199:202]] == ["DE-00200", "DE-00201", "DE-00202"]


def test_the_body_is_split_into_tables_of_rows_per_table_rows_with_one_grid() -> None:
    document, _, count = build(row(n) for n in range(1, 2 * ROWS_PER_TABLE + 51))
    assert count == 2 * ROWS_PER_TABLE + 50
    assert [len(t.rows) for t in document.tables] == [ROWS_PER_TABLE, ROWS_PER_TABLE, 50]
    assert [r.cells[0].text for r in body_rows(document)] == [f"DE-{n:03d}" for n in range(1, count + 1)]
    grids = {tuple(g.get(qn("w:w")) for g in t._tbl.tblGrid.findall(qn("w:gridCol"))) for t in document.tables}
    assert len(grids) == 1
    # Each pair of tables is kept apart by a paragraph, or Word and LibreOffice would join them.
    body = document.element.body
    kinds = [child.tag.rsplit("}", 1)[1] for child in body]
    assert kinds == ["tbl", "p", "tbl", "p", "tbl", "p", "sectPr"]


def test_memory_does_not_grow_with_the_number_of_rows() -> None:
    comment = "x" * 400

    def peak(n: int) -> int:
        rows = (row(i, comment=comment) for i in range(n))
        with tempfile.TemporaryFile() as out:
            tracemalloc.start()
            try:
                write_comment_table(INFO, rows, out)
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    peak(10)  # the frame is built once per process
    small, large = peak(1_000), peak(8_000)
    # 8,000 rows are ~8 MB of XML; streamed in chunks the peak stays where 1,000 rows put it.
    assert large < small + 1_000_000, (small, large)


@pytest.mark.skipif(not TEMPLATE.exists(), reason="no reference")
def test_the_layout_matches_the_official_template() -> None:
    template = docx.Document(str(TEMPLATE))
    document, _, _ = build([row()])
    theirs = template.sections[0]
    ours = document.sections[0]
    geometry = ("page_width", "page_height", "left_margin", "right_margin", "top_margin", "bottom_margin")
    assert [getattr(ours, g).twips for g in geometry] == [getattr(theirs, g).twips for g in geometry]
    assert ours.header_distance.twips == theirs.header_distance.twips
    # Title row and headings: the same widths and the same words, paragraph by paragraph.
    for i in (0, 1):
        assert grid(ours.header.tables[i]) == grid(theirs.header.tables[i])
    assert [c.text for c in ours.header.tables[1].rows[0].cells] == [
        c.text for c in theirs.header.tables[1].rows[0].cells
    ]
    assert [c.text.split(":")[0] for c in ours.header.tables[0].rows[0].cells] == [
        c.text.split(":")[0] for c in theirs.header.tables[0].rows[0].cells
    ]
    # The footer's lines; the template's form line has a doubled space after CENELEC.
    their_footer = [" ".join(p.text.split()) for p in theirs.footer.paragraphs]
    our_footer = [" ".join(p.text.split()) for p in ours.footer.paragraphs]
    assert our_footer[:2] == their_footer[:2]
    assert our_footer[3] == their_footer[3] == FORM_LINE
    their_styles = [c.paragraphs[0].style.style_id for c in template.tables[0].rows[0].cells]
    assert their_styles == CELL_STYLES
    assert grid(body_table(document)) == grid(template.tables[0])


def test_every_style_is_arial_without_a_theme_font() -> None:
    _, data, _ = build([row()])
    styles = part(data, "word/styles.xml")
    assert "Theme=" not in styles and "theme=" not in styles
    fonts = re.findall(r"<w:rFonts ([^>]*)/>", styles)
    assert fonts
    for attributes in fonts:
        named = dict(re.findall(r'w:(\w+)="([^"]*)"', attributes))
        assert named == {"ascii": "Arial", "hAnsi": "Arial", "eastAsia": "Arial", "cs": "Arial"}


def test_an_open_ballots_table_says_it_holds_the_comments_so_far() -> None:
    info = TableInfo(date="2026-12-04", document="ISO/DIS 11367", project="ISO 11367", comments_so_far=True)
    document, data, _ = build([row()], info)
    assert document.paragraphs[0].text.startswith("Comments so far: the ballot is still open")
    assert "2026-12-04" in document.paragraphs[0].text
    assert "compiled comments (comments so far)" in part(data, "docProps/core.xml")
    closed, data, _ = build([row()])
    assert not any("so far" in p.text for p in closed.paragraphs)
    assert "so far" not in part(data, "docProps/core.xml")
    empty, _, _ = build([], info)
    assert [p.text for p in empty.paragraphs][:2][0].startswith("Comments so far")


def _soffice() -> str | None:
    return shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_converts_a_table_and_a_report_to_pdf(tmp_path: Path) -> None:
    from schemas.enums import BallotType, Position
    from services.documents.report import ReportInfo, ReportParty, write_results_report
    from services.rules.approval import CastVote, rulebook, tally

    table_path = tmp_path / "table.docx"
    with table_path.open("wb") as out:
        write_comment_table(INFO, (row(n, comment="Line one\nline two & <three>") for n in range(1, 201)), out)
    result = tally(BallotType.DIS, rulebook("iso"), ["DE"], [CastVote("DE", Position.APPROVE, True, True)])
    report_path = tmp_path / "report.docx"
    with report_path.open("wb") as out:
        write_results_report(
            ReportInfo(
                "DIS", "iso", "ISO/DIS 11367", "ISO 11367", "Service", "ISO/TC 312", None, datetime(2026, 11, 24), None
            ),
            result.to_dict(),
            [ReportParty("DE", "DIN", "P", True, "approve", "", None, ())],
            out,
        )
    soffice = _soffice()
    assert soffice is not None
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(table_path),
            str(report_path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    for name in ("table.pdf", "report.pdf"):
        pdf = tmp_path / name
        assert pdf.exists() and pdf.stat().st_size > 1000
        assert pdf.read_bytes().startswith(b"%PDF")


def _convert(tmp_path: Path, *files: Path) -> None:
    soffice = _soffice()
    assert soffice is not None
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


@pytest.mark.skipif(_soffice() is None or shutil.which("pdftotext") is None, reason="LibreOffice or pdftotext missing")
def test_rendered_no_page_starts_with_a_row_whose_owner_is_on_the_page_before(tmp_path: Path) -> None:
    sentence = "The requirement in this clause is ambiguous; clarify the scope and intent. "
    rows = [
        row(n, reference=f"DE-{n:03d}", comment=sentence * (1 + (n * 7) % 11), observation="Line.\n" * (n % 6))
        for n in range(1, 81)
    ]
    path = tmp_path / "table.docx"
    with path.open("wb") as out:
        write_comment_table(INFO, rows, out)
    _convert(tmp_path, path)
    pages = _page_texts(tmp_path / "table.pdf")
    assert len(pages) > 5  # long enough for rows to meet page ends
    for number, page in enumerate(pages, 1):
        lines = [line for line in page.splitlines() if line.strip()]
        assert lines[0].startswith("Template for comments and secretariat observations")
        body = lines[lines.index(next(line for line in lines if "(e.g. Table 1)" in line)) + 1 :]
        # The first line under the headings opens a row: its MB/NC cell is on it, at the left.
        assert body[0].lstrip().startswith("DE-"), (number, body[:3])
        assert f"page {number} of {len(pages)}" in page
        assert FORM_LINE in " ".join(page.split())
