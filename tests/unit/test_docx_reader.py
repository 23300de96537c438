"""Reading filled commenting templates and compiled tables (services/documents/reader.py).

Files are built with tests/docx_factory.py. The real committee files and the official template
are read from ../shared/reference when that folder exists (never copied into the repository);
those tests are skipped elsewhere.
"""

from __future__ import annotations

import copy
import io
from collections import Counter
from pathlib import Path

import docx
import pytest

from services.documents.reader import (
    NO_COMMENT_TABLE,
    CommentRow,
    RawRow,
    parse_compiled_table,
    parse_mb,
    parse_national_comments,
    parse_observation,
    parse_type,
    read_rows,
)
from services.documents.safety import UploadRejected, open_docx
from tests import SHARED
from tests.docx_factory import Cell, Row, comment_docx, many_rows, row8

ALIASES = {
    "DE": "DE", "DIN": "DE",
    "FR": "FR", "AFNOR": "FR",
    "GB": "GB", "BSI": "GB",
    "CN": "CN", "SAC": "CN",
    "DK": "DK", "DS": "DK",
    "US": "US", "ANSI": "US",
    "AU": "AU", "SA": "AU",
    "PL": "PL", "PKN": "PL",
    "ZA": "ZA", "SABS": "ZA",
}  # fmt: skip

REFERENCE = SHARED / "reference"
REAL = REFERENCE / "real"
TEMPLATE = REFERENCE / "iso_comment_template_2012-03.docx"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="real committee files not available")

ROWS = [
    row8("DE-001", "17", "3.1", "Table 1", "te", "The definition is circular.", "Define it in terms of X."),
    row8("DE-002", "17-19", "Annex A", "", "ed", "Typo: 'teh'.", "Replace with 'the'."),
    row8("DE-003", "", "General", "", "ge", "The document is hard to read.", ""),
]


def rows_of(data: bytes) -> list[RawRow]:
    return read_rows(open_docx(data))


def texts(rows: list[RawRow]) -> list[tuple[str, ...]]:
    return [(r.mb, r.line, r.clause, r.element, r.type, r.comment, r.proposed_change, r.observation) for r in rows]


# ---------------------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------------------


def test_filled_2012_template_with_headings_in_the_page_header() -> None:
    rows = rows_of(comment_docx(ROWS, headings="header"))
    assert texts(rows) == [tuple(r) for r in ROWS]
    assert [r.row for r in rows] == [1, 2, 3]
    assert {r.table for r in rows} == {1}


@pytest.mark.parametrize("headings", ["body", "both"])
def test_headings_in_the_first_body_row_are_skipped_and_not_counted(headings: str) -> None:
    rows = rows_of(comment_docx(ROWS, headings=headings))
    assert texts(rows) == [tuple(r) for r in ROWS]
    assert [r.row for r in rows] == [1, 2, 3]


def test_headings_in_the_body_without_iso_styles() -> None:
    rows = rows_of(comment_docx(ROWS, headings="body", iso_styles=False))
    assert texts(rows) == [tuple(r) for r in ROWS]


def test_headings_in_the_body_map_columns_by_their_text() -> None:
    # A pasted table whose columns come in another order, named by its heading row.
    headings = ["MB/NC", "Clause/Subclause", "Line number", "Type of comment", "Paragraph/Figure/Table/Note",
                "Comments", "Proposed change", "Observations of the secretariat"]  # fmt: skip
    data = comment_docx(
        [["DE-001", "3.1", "17", "te", "Table 1", "Comment", "Change", ""]],
        headings="body",
        body_heading_texts=headings,
    )
    (row,) = rows_of(data)
    assert (row.mb, row.line, row.clause, row.element, row.type) == ("DE-001", "17", "3.1", "Table 1", "te")


def test_repeated_heading_row_inside_the_body_is_skipped() -> None:
    from tests.docx_factory import HEADINGS_2012

    heading = [h.replace("\ue000", "") for h in HEADINGS_2012]
    rows = rows_of(comment_docx([ROWS[0], heading, ROWS[1]], headings="body"))
    assert [r.mb for r in rows] == ["DE-001", "DE-002"]
    assert [r.row for r in rows] == [1, 2]


@pytest.mark.parametrize("headings", ["header", "body", "none"])
def test_2001_09_seven_column_layout(headings: str) -> None:
    seven = [
        ["DE", "3.1", "Note 2", "te", "The note is normative in tone.", "Rephrase as a note.", ""],
        ["DE", "Annex B", "", "ed", "Wrong figure number.", "Use Figure B.2.", "Accepted"],
    ]
    rows = rows_of(comment_docx(seven, layout="2001", headings=headings))
    assert [(r.mb, r.line, r.clause, r.element, r.type, r.comment, r.proposed_change, r.observation)
            for r in rows] == [
        ("DE", "", "3.1", "Note 2", "te", "The note is normative in tone.", "Rephrase as a note.", ""),
        ("DE", "", "Annex B", "", "ed", "Wrong figure number.", "Use Figure B.2.", "Accepted"),
    ]  # fmt: skip
    assert [r.row for r in rows] == [1, 2]


def test_table_without_headings_or_styles_is_found_by_its_content() -> None:
    rows = rows_of(comment_docx(ROWS, headings="none", iso_styles=False))
    assert len(rows) == 3


def test_other_tables_are_ignored_and_not_counted() -> None:
    data = comment_docx(
        ROWS,
        intro=["Comments of DIN on ISO/DIS 12345"],
        extra_tables=[[["Date", "2024-05-01"], ["Document", "ISO/DIS 12345"]]],
        log_section=["ISO_DIS 12345_DIN.docx", "ISO_DIS 12345_AFNOR.docx"],
    )
    rows = rows_of(data)
    assert [r.mb for r in rows] == ["DE-001", "DE-002", "DE-003"]
    assert [r.row for r in rows] == [1, 2, 3]


def test_an_eight_column_table_of_other_data_is_not_a_comment_table() -> None:
    data = comment_docx([[str(i * j) for j in range(8)] for i in range(5)], headings="none", iso_styles=False)
    document = open_docx(data)
    assert read_rows(document) == []
    rows, problems = parse_national_comments(data, "DE", ALIASES)
    assert rows == []
    assert problems[0].row == 0
    assert problems[0].message == NO_COMMENT_TABLE


def test_several_comment_tables_continue_the_row_count() -> None:
    # Two comment tables with a paragraph between them (e.g. a second page pasted below).
    first = comment_docx(ROWS[:2], headings="body")
    document = open_docx(first)
    body = document.element.body
    tables = body.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tbl")
    second = copy.deepcopy(tables[0])
    tables[0].addnext(second)
    tables[0].addnext(
        copy.deepcopy(body.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p")[-1])
    )
    rows = read_rows(document)
    assert [(r.table, r.row, r.mb) for r in rows] == [(1, 1, "DE-001"), (1, 2, "DE-002"), (2, 3, "DE-001"),
                                                      (2, 4, "DE-002")]  # fmt: skip


def test_extra_id_column_nine_cells_under_eight_headings() -> None:
    nine = [
        ["AFNOR-001", "FR-007", "", "3.1", "", "ed", "Comment A", "Change A", ""],
        ["XXX", "TMG-011", "", "3.2", "coverage", "ge", "Comment B", "Change B", ""],
        ["", "TMG-015", "", "3.6", "", "ed", "Comment C", "", ""],
        ["-009", "JRC (EC)-014", "", "3.6", "", "ge", "Comment D", "", "https://example.org/issues/172"],
    ]
    data = comment_docx(nine)
    rows = rows_of(data)
    assert [(r.mb, r.extra_id, r.clause, r.type, r.comment) for r in rows] == [
        ("AFNOR-001", "FR-007", "3.1", "ed", "Comment A"),
        ("XXX", "TMG-011", "3.2", "ge", "Comment B"),
        ("", "TMG-015", "3.6", "ed", "Comment C"),
        ("-009", "JRC (EC)-014", "3.6", "ge", "Comment D"),
    ]
    compiled, problems = parse_compiled_table(data, ALIASES)
    assert problems == []
    assert [(c.body, c.original_reference) for c in compiled] == [
        ("FR", "FR-007"),
        ("TMG", "TMG-011"),
        ("TMG", "TMG-015"),
        ("JRC (EC)", "JRC (EC)-014"),
    ]
    assert compiled[3].observation == "https://example.org/issues/172"
    assert compiled[3].disposition is None


def test_leading_numeric_id_column() -> None:
    nine = [
        ["1", "DE-001", "12", "3.1", "", "te", "Comment A", "Change A", ""],
        ["2", "DE-002", "14", "3.2", "", "ed", "Comment B", "Change B", ""],
    ]
    rows = rows_of(comment_docx(nine))
    assert [(r.mb, r.extra_id, r.line) for r in rows] == [("DE-001", "1", "12"), ("DE-002", "2", "14")]
    comments, problems = parse_national_comments(comment_docx(nine), "DE", ALIASES)
    assert problems == []
    assert [c.original_reference for c in comments] == ["DE-001", "DE-002"]


# ---------------------------------------------------------------------------------------------
# Cells: merges, paragraphs, tracked changes
# ---------------------------------------------------------------------------------------------


def test_observation_cell_spanning_two_grid_columns_and_grid_after() -> None:
    # As in the TC 211 files: a nine-column grid whose last cell spans two columns, and one row
    # that ends early with gridAfter instead.
    rows = [
        Row(["**-001", "", "General", "", "Ed.", "Comment A", "Change A", Cell("Accepted\nDone.", span=2)]),
        Row(["DE-028", "", "3.4", "", "te", "Comment B", "Change B", "Accepted"], grid_after=1),
    ]
    got = rows_of(comment_docx(rows, grid_columns=9))
    assert [(r.mb, r.type, r.comment, r.observation) for r in got] == [
        ("**-001", "Ed.", "Comment A", "Accepted\nDone."),
        ("DE-028", "te", "Comment B", "Accepted"),
    ]


def test_eight_cells_on_an_eighteen_column_grid_map_by_grid_position() -> None:
    # The collation tool's output: seven cells spanning two grid columns each, the last spanning one
    # (an 8-column table laid on a 15-column grid here, 18 with gridBefore/After in some files).
    def wide(values: list[str]) -> Row:
        return Row([Cell(v, span=2) for v in values[:7]] + [values[7]], grid_before=1, grid_after=2)

    rows = [
        wide(row8("JP01 023", "12", '04.01.3 "Assumed Syntax Rules"', "", "te", "Comment A", "Change A", "")),
        wide(row8("GB 003", "", "02", "Table 2", "ed", "Comment B", "", "Accepted")),
    ]
    got = rows_of(comment_docx(rows, grid_columns=18))
    assert [(r.mb, r.line, r.clause, r.element, r.type, r.comment, r.proposed_change, r.observation) for r in got] == [
        ("JP01 023", "12", '04.01.3 "Assumed Syntax Rules"', "", "te", "Comment A", "Change A", ""),
        ("GB 003", "", "02", "Table 2", "ed", "Comment B", "", "Accepted"),
    ]
    compiled, problems = parse_compiled_table(comment_docx(rows, grid_columns=18), ALIASES)
    assert problems == []
    assert [(r.body, r.original_reference) for r in compiled] == [("JP", "JP01 023"), ("GB", "GB 003")]


def test_grid_before_shifts_cells_right() -> None:
    rows = [
        row8("DE-001", "1", "1", "", "te", "Full row", "", ""),
        Row(["2", "4.1", "", "ed", "Row without its MB cell", "Fix", ""], grid_before=1),
    ]
    got = rows_of(comment_docx(rows))
    assert [(r.mb, r.line, r.clause, r.type, r.comment) for r in got] == [
        ("DE-001", "1", "1", "te", "Full row"),
        ("", "2", "4.1", "ed", "Row without its MB cell"),
    ]


def test_cell_spanning_two_fields_goes_to_the_first() -> None:
    rows = [
        ["DE-001", "3", "4.2", "", "te", Cell("Comment and proposal in one cell", span=2), ""],
        ROWS[0],
    ]
    got = rows_of(comment_docx(rows, grid_columns=8))
    assert (got[0].comment, got[0].proposed_change, got[0].observation) == ("Comment and proposal in one cell", "", "")
    assert texts(got[1:]) == [tuple(ROWS[0])]


def test_vertically_merged_cells_repeat_the_value_above() -> None:
    rows = [
        [Cell("DE", vmerge="restart"), "10", "3.1", "", Cell("te", vmerge="restart"), "First", "A", ""],
        [Cell("", vmerge="continue"), "12", "3.2", "", Cell("", vmerge="continue"), "Second", "B", ""],
        [Cell("", vmerge="continue"), "14", "3.3", "", "ed", "Third", "C",
         Cell("Rejected: out of scope", vmerge="restart")],
        ["DE", "15", "3.4", "", "ed", "Fourth", "D", Cell("", vmerge="continue")],
    ]  # fmt: skip
    got = rows_of(comment_docx(rows))
    assert [(r.mb, r.type, r.comment, r.observation) for r in got] == [
        ("DE", "te", "First", ""),
        ("DE", "te", "Second", ""),
        ("DE", "ed", "Third", "Rejected: out of scope"),
        ("DE", "ed", "Fourth", "Rejected: out of scope"),
    ]


def test_blank_rows_are_skipped_but_counted() -> None:
    rows = [ROWS[0], [""] * 8, ["", "", "", "", "", " ", "\n", ""], ROWS[1]]
    got = rows_of(comment_docx(rows))
    assert [(r.row, r.mb) for r in got] == [(1, "DE-001"), (4, "DE-002")]


def test_title_row_spanning_the_table_is_skipped() -> None:
    rows = [[Cell("Comments from DIN", span=8)], ROWS[0]]
    got = rows_of(comment_docx(rows))
    assert [(r.row, r.mb) for r in got] == [(2, "DE-001")]


def test_stray_empty_paragraphs_and_edge_whitespace_are_trimmed() -> None:
    rows = [["\nDE-001\n\n", "\t17 ", "\n3.1\n", "", "\tEd\n", "\n\nFirst paragraph.\n\nSecond paragraph.\n\n",
             "Change  \n", "\n"]]  # fmt: skip
    (got,) = rows_of(comment_docx(rows))
    assert got.mb == "DE-001"
    assert got.line == "17"
    assert got.clause == "3.1"
    assert got.type == "Ed"
    assert got.comment == "First paragraph.\n\nSecond paragraph."
    assert got.proposed_change == "Change"
    assert got.observation == ""


def test_tracked_insertions_kept_deletions_and_moves_dropped() -> None:
    comment = Cell(runs=[("", "The term "), ("del", "foo "), ("ins", "bar "), ("moveFrom", "old place "),
                         ("", "is undefined.")])  # fmt: skip
    (got,) = rows_of(comment_docx([["DE-001", "", "3", "", "te", comment, "", ""]]))
    assert got.comment == "The term bar is undefined."


def test_hyperlinks_tabs_and_field_results_are_text_but_field_codes_and_text_boxes_are_not() -> None:
    obs = Cell(runs=[("", "Accepted"), ("", "\tsee "), ("link", "https://example.org/1"), ("textbox", "HIDDEN"),
                     ("field", " (p. 3)")])  # fmt: skip
    (got,) = rows_of(comment_docx([["DE-001", "", "3", "", "te", "Comment", "", obs]]))
    assert got.observation == "Accepted\tsee https://example.org/1 (p. 3)"


def test_nested_tables_in_a_cell_are_ignored_and_content_controls_read() -> None:
    comment = Cell("Outer text", nested=[["inner 1", "inner 2"]])
    change = Cell("Inside a content control", content_control=True)
    (got,) = rows_of(comment_docx([["DE-001", "", "3", "", "te", comment, change, ""]]))
    assert got.comment == "Outer text"
    assert got.proposed_change == "Inside a content control"


def test_control_and_private_use_characters_in_text() -> None:
    # \ue001… are the reader's internal separators: they must not split cells.
    (got,) = rows_of(comment_docx([["DE-001", "", "3", "", "te", "a\ue001b\ue002c\ue003d\ue004e", "", ""]]))
    assert got.comment == "abcde"


# ---------------------------------------------------------------------------------------------
# Cell parsers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mb", "expected"),
    [
        ("DE", ("DE", "")),
        ("de", ("DE", "")),
        ("DIN", ("DE", "")),
        ("DE-001", ("DE", "DE-001")),
        ("AFNOR-003", ("FR", "AFNOR-003")),
        ("DK2-005", ("DK", "DK2-005")),
        ("DK10-021", ("DK", "DK10-021")),
        ("**-001", ("**", "**-001")),
        ("**", ("**", "")),
        ("ZA-001-030", ("ZA", "ZA-001-030")),
        ("-009", (None, "-009")),
        ("CN-001\n-002", ("CN", "CN-001")),
        ("\tTMG-005\n\t", ("TMG", "TMG-005")),
        ("JRC (EC)-014", ("JRC (EC)", "JRC (EC)-014")),
        ("TMG-011", ("TMG", "TMG-011")),
        ("IOGP-001", ("IOGP", "IOGP-001")),
        ("CEN/TC 465-003", ("CEN/TC 465", "CEN/TC 465-003")),
        ("XXX", (None, "")),
        ("", (None, "")),
        ("DE\u2011001", ("DE", "DE-001")),  # non-breaking hyphen
        ("DE – 001", ("DE", "DE-001")),
        ("NL", ("NL", "")),  # an ISO 3166 code the installation does not know
        ("DE (DIN)", ("DE", "")),
        ("US 1", ("US", "US 1")),
        ("DE/DIN", ("DE", "")),
        ("DE/DIN-004", ("DE", "DE/DIN-004")),
        # ISO's collation tool 2018.1: a space for the hyphen, a body's file number before the serial.
        ("GB 003", ("GB", "GB 003")),
        ("** 001", ("**", "** 001")),
        ("**  073", ("**", "**  073")),
        ("JP01 023", ("JP", "JP01 023")),
        ("JP10 070", ("JP", "JP10 070")),
        ("jp01 023", ("JP", "jp01 023")),
        ("JP-001-050", ("JP", "JP-001-050")),
    ],
)
def test_parse_mb(mb: str, expected: tuple[str | None, str]) -> None:
    assert parse_mb(mb, ALIASES) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("te", ("te", "")),
        ("TE", ("te", "")),
        ("Te", ("te", "")),
        ("ed", ("ed", "")),
        ("Ed.", ("ed", "")),
        ("GE", ("ge", "")),
        ("Ge", ("ge", "")),
        (" \tEd\n", ("ed", "")),
        ("technical", ("te", "technical")),
        ("Editorial", ("ed", "Editorial")),
        ("general", ("ge", "general")),
        ("Ed/te", ("ed", "Ed/te")),
        ("Te/ed", ("te", "Te/ed")),
        ("ge/te", ("ge", "ge/te")),
        ("ed, te", ("ed", "ed, te")),
        ("te (technical)", ("te", "te (technical)")),
        ("General comment", ("ge", "General comment")),
        ("", ("", "")),
        ("xx", (None, "xx")),
        ("te/xx", (None, "te/xx")),
    ],
)
def test_parse_type(raw: str, expected: tuple[str | None, str]) -> None:
    assert parse_type(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Accepted", ("accepted", "")),
        ("accepted.", ("accepted", "")),
        ("Accepted\nhttps://github.com/x/y/issues/1", ("accepted", "https://github.com/x/y/issues/1")),
        ("Accepted in principle \nRedraw the figures.", ("accepted_in_principle", "Redraw the figures.")),
        ("Accepted with modifications", ("accepted_in_principle", "")),
        ("Partially accepted: see 3.2", ("partially_accepted", "see 3.2")),
        ("Noted", ("noted", "")),
        ("Not Accepted\nThe WG decides.", ("rejected", "The WG decides.")),
        ("Rejected.  The intent is otherwise.", ("rejected", "The intent is otherwise.")),
        ("REJECTED – out of scope", ("rejected", "out of scope")),
        ("Withdrawn", ("withdrawn", "")),
        ("Fixed.", ("accepted", "")),
        ("Fixed.  Removed the reference.", ("accepted", "Removed the reference.")),
        ("Note that the WG will revisit this.", (None, "Note that the WG will revisit this.")),
        ("Acceptable as is", (None, "Acceptable as is")),
        ("????", (None, "????")),
        ("\n\nAccepted\n\n", ("accepted", "")),
        ("", (None, "")),
    ],
)
def test_parse_observation(text: str, expected: tuple[str | None, str]) -> None:
    assert parse_observation(text) == expected


# ---------------------------------------------------------------------------------------------
# National upload (strict)
# ---------------------------------------------------------------------------------------------


def test_national_upload_happy_path() -> None:
    rows, problems = parse_national_comments(comment_docx(ROWS), "DE", ALIASES)
    assert problems == []
    assert rows[0] == CommentRow(
        row=1,
        body="DE",
        original_reference="DE-001",
        line="17",
        clause="3.1",
        element="Table 1",
        type="te",
        type_as_written="",
        comment="The definition is circular.",
        proposed_change="Define it in terms of X.",
        observation="",
        disposition=None,
    )
    assert [r.original_reference for r in rows] == ["DE-001", "DE-002", "DE-003"]


def test_national_upload_types_as_written() -> None:
    rows_in = [row8(f"DIN-{i:03d}", "", "1", "", t, f"Comment {i}") for i, t in
               enumerate(["te", "TE", "Te", "Ed.", "technical", "Ed/te", "GE", ""], start=1)]  # fmt: skip
    rows, problems = parse_national_comments(comment_docx(rows_in), "DE", ALIASES)
    assert problems == []
    assert [(r.type, r.type_as_written) for r in rows] == [
        ("te", ""), ("te", ""), ("te", ""), ("ed", ""), ("te", "technical"), ("ed", "Ed/te"), ("ge", ""), ("", ""),
    ]  # fmt: skip
    assert {r.body for r in rows} == {"DE"}
    assert rows[0].original_reference == "DIN-001"


def test_national_upload_empty_mb_means_the_uploading_body() -> None:
    rows, problems = parse_national_comments(comment_docx([row8("", "3", "1", "", "te", "Comment")]), "DE", ALIASES)
    assert problems == []
    assert (rows[0].body, rows[0].original_reference) == ("DE", "")


def test_national_upload_rows_of_another_body_are_problems_with_their_row_number() -> None:
    rows_in = [
        row8("DE-001", "", "1", "", "te", "Ours"),
        [""] * 8,  # blank row 2, counted
        row8("FR-001", "", "1", "", "te", "French comment"),
        row8("AFNOR-002", "", "1", "", "te", "French by acronym"),
        row8("DIN-004", "", "1", "", "te", "Ours by acronym"),
        row8("TMG-005", "", "1", "", "te", "A liaison's"),
    ]
    rows, problems = parse_national_comments(comment_docx(rows_in), "DE", ALIASES)
    assert [r.row for r in rows] == [1, 3, 4, 5, 6]  # every row is read; the caller imports none
    assert [p.row for p in problems] == [3, 4, 6]
    assert problems[0].message.startswith("Row 3 belongs to FR, not DE")
    assert problems[1].message.startswith("Row 4 belongs to FR, not DE")
    assert "AFNOR-002" in problems[1].message
    assert problems[2].message.startswith("Row 6 belongs to TMG, not DE")


def test_national_upload_empty_comment_and_unknown_type_are_problems() -> None:
    rows_in = [
        row8("DE-001", "", "1", "", "xx", "Comment"),
        row8("DE-002", "", "1", "", "te", "", "A proposal without a comment"),
        row8("DE-003", "", "2", "", "te", "Fine"),
    ]
    _, problems = parse_national_comments(comment_docx(rows_in), "DE", ALIASES)
    assert [p.row for p in problems] == [1, 2]
    assert problems[0].message.startswith("Row 1:")
    assert problems[1].message.startswith("Row 2 ")
    assert "“xx”" in problems[0].message
    assert "no comment text" in problems[1].message


def test_national_upload_length_limits() -> None:
    rows_in = [
        row8("DE-001", "1" * 101, "1", "", "te", "Comment"),
        row8("DE-002", "", "c" * 201, "e" * 201, "te", "x" * 20_001, "y" * 20_001),
        row8("DE-003", "1" * 100, "c" * 200, "e" * 200, "te", "x" * 20_000, "y" * 20_000),
    ]
    _, problems = parse_national_comments(comment_docx(rows_in), "DE", ALIASES)
    assert [p.row for p in problems] == [1, 2, 2, 2, 2]
    assert "line number" in problems[0].message
    assert "limit is 20,000" in problems[1].message


def test_national_upload_rows_with_only_the_mb_filled_are_skipped() -> None:
    rows_in = [ROWS[0], row8("DE"), row8("DE")]
    rows, problems = parse_national_comments(comment_docx(rows_in), "DE", ALIASES)
    assert problems == []
    assert len(rows) == 1


def test_national_upload_of_a_blank_form_reports_it() -> None:
    rows, problems = parse_national_comments(comment_docx([[""] * 8, [""] * 8]), "DE", ALIASES)
    assert rows == []
    assert [p.row for p in problems] == [0]


def test_national_upload_without_a_comment_table() -> None:
    document = docx.Document()
    document.add_paragraph("Dear secretary, we have no comments.")
    out = io.BytesIO()
    document.save(out)
    rows, problems = parse_national_comments(out.getvalue(), "DE", ALIASES)
    assert rows == []
    assert [(p.row, p.message) for p in problems] == [(0, "No comment table found: use the ISO commenting template.")]


def test_docx_saved_under_a_doc_name_is_read_by_content(tmp_path: Path) -> None:
    path = tmp_path / "ISO_DIS 12345_DIN.doc"
    path.write_bytes(comment_docx(ROWS))
    rows, problems = parse_national_comments(path.read_bytes(), "DE", ALIASES)
    assert problems == []
    assert len(rows) == 3


def test_parse_functions_reject_what_is_not_a_docx() -> None:
    with pytest.raises(UploadRejected, match="PDF"):
        parse_national_comments(b"%PDF-1.7\n...", "DE", ALIASES)
    with pytest.raises(UploadRejected, match=r"old binary Word \.doc"):
        parse_compiled_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), ALIASES)


# ---------------------------------------------------------------------------------------------
# Compiled tables (tolerant)
# ---------------------------------------------------------------------------------------------


def test_compiled_table_keeps_every_body_and_reads_observations() -> None:
    rows_in = [
        row8("**-001", "", "General", "", "Ed.", "ISO/CS comment", "Fix", "Accepted\nhttps://x/1"),
        row8("CN-001\n-002", "", "1", "", "\tEd", "Chinese comment", "Fix", "Not accepted\nOut of scope."),
        row8("IOGP-003", "", "Document", "", "ge", "Liaison comment", "", "Fixed."),
        row8("-004", "", "2", "", "weird", "No prefix", "", "????"),
        row8("DE-005", "", "3", "", "te", "", "", "Noted"),  # nothing to resolve
        row8("", "", "", "", "", "", "Only a proposal"),
    ]
    rows, problems = parse_compiled_table(comment_docx(rows_in), ALIASES)
    assert [(r.row, r.body, r.original_reference, r.type, r.type_as_written, r.disposition, r.observation)
            for r in rows] == [
        (1, "**", "**-001", "ed", "", "accepted", "https://x/1"),
        (2, "CN", "CN-001", "ed", "", "rejected", "Out of scope."),
        (3, "IOGP", "IOGP-003", "ge", "", "accepted", ""),
        (4, "", "-004", "", "weird", None, "????"),
        (6, "", "", "", "", None, ""),
    ]  # fmt: skip
    assert [p.row for p in problems] == [5]
    assert "neither a comment nor a proposed change" in problems[0].message


def test_compiled_table_without_a_comment_table() -> None:
    document = docx.Document()
    document.add_table(rows=2, cols=2)
    out = io.BytesIO()
    document.save(out)
    rows, problems = parse_compiled_table(out.getvalue(), ALIASES)
    assert rows == []
    assert [(p.row, p.message) for p in problems] == [(0, NO_COMMENT_TABLE)]


# ---------------------------------------------------------------------------------------------
# Size and speed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1_000, 5_000])
def test_large_filled_template_parses_whole(n: int) -> None:
    # Its speed is the benchmark's (import_5000), measured beside anchors, not asserted here.
    data = comment_docx(many_rows(n))
    rows, problems = parse_national_comments(data, "DE", ALIASES)
    assert problems == []
    assert len(rows) == n
    assert [r.row for r in rows[:3]] == [1, 2, 3]
    assert rows[-1].row == n
    assert rows[-1].original_reference == f"DE-{n:03d}"
    assert rows[-1].comment.endswith("A second paragraph explains why.")


# ---------------------------------------------------------------------------------------------
# The official template, filled (read from ../shared/reference, never copied)
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(not TEMPLATE.exists(), reason="official template not available")
def test_official_2012_03_template_filled_in() -> None:
    document = docx.Document(str(TEMPLATE))
    tbl = document.tables[0]._tbl
    blank = tbl.tr_lst[0]
    for tr in list(tbl.tr_lst):
        tbl.remove(tr)
    for values in ROWS:
        tr = copy.deepcopy(blank)
        tbl.append(tr)
        for tc, value in zip(tr.tc_lst, values, strict=True):
            p = tc.p_lst[0]
            for i, line in enumerate(value.split("\n")):
                if i:
                    p = copy.deepcopy(p)
                    tc.append(p)
                    for r in p.r_lst:
                        p.remove(r)
                p.add_r().text = line
    out = io.BytesIO()
    document.save(out)
    rows, problems = parse_national_comments(out.getvalue(), "DE", ALIASES)
    assert problems == []
    assert [(r.row, r.original_reference, r.line, r.clause, r.type) for r in rows] == [
        (1, "DE-001", "17", "3.1", "te"),
        (2, "DE-002", "17-19", "Annex A", "ed"),
        (3, "DE-003", "", "General", "ge"),
    ]


@pytest.mark.skipif(not TEMPLATE.exists(), reason="official template not available")
def test_official_blank_template_has_a_comment_table_and_no_rows() -> None:
    data = TEMPLATE.read_bytes()
    assert read_rows(open_docx(data)) == []
    assert parse_compiled_table(data, ALIASES)[1][0].row == 0


# ---------------------------------------------------------------------------------------------
# Real committee files (read from ../shared/reference/real, never copied)
# ---------------------------------------------------------------------------------------------

FINAL = "TC211_DIS19156ed2_comments-incl-TMG-CEN_om-swg_final-observations.docx"
FIRST = "TC211_DIS19156ed2_comments-incl-TMG-CEN_om-swg_first.docx"
ISO_ORIGINAL = "TC211_DIS19156ed2_collated-comments_ISO-original_om-swg.doc"
V2_EDITED = "TC211_DIS19156ed2_collated-comments_om-swg_v2-edited.docx"
N5600 = "TC211_N5600_DIS19168-2_compiled-comments_ogcapi-features.docx"
TC171 = "TC171SC2_ISO32000-extensions_compiled-comments_CommentHelper.docx"


def compiled(name: str) -> list[CommentRow]:
    rows, problems = parse_compiled_table((REAL / name).read_bytes(), ALIASES)
    assert problems == []
    return rows


@needs_real
@pytest.mark.parametrize(
    ("name", "count"), [(FINAL, 126), (FIRST, 126), (ISO_ORIGINAL, 119), (V2_EDITED, 126), (N5600, 21), (TC171, 3)]
)
def test_real_files_row_counts(name: str, count: int) -> None:
    rows = compiled(name)
    assert len(rows) == count
    assert len({r.row for r in rows}) == count


@needs_real
def test_real_final_observations_dispositions() -> None:
    rows = compiled(FINAL)
    assert Counter(r.disposition for r in rows) == {"accepted": 108, "accepted_in_principle": 7, "rejected": 11}
    first = rows[0]
    assert (first.row, first.body, first.original_reference, first.clause) == (1, "**", "**-001", "")
    assert first.element == "Many figures"
    assert first.observation.startswith("UML Context Diagrams")
    by_ref = {r.original_reference: r for r in rows}
    assert (by_ref["JRC (EC)-014"].body, by_ref["JRC (EC)-014"].disposition) == ("JRC (EC)", "rejected")
    assert by_ref["TMG-011"].body == "TMG"
    assert (by_ref["DK-009"].type, by_ref["DK-009"].type_as_written) == ("ed", "Ed/te")
    assert (by_ref["DK-012"].type, by_ref["DK-012"].type_as_written) == ("te", "Te/ed")
    assert (by_ref["**-004"].type, by_ref["**-004"].clause) == ("ed", "General")
    assert by_ref["DE-028"].type == "te"  # the row that ends with gridAfter
    assert Counter(r.body for r in rows) == {"**": 97, "DK": 11, "TMG": 7, "JRC (EC)": 6, "FR": 3, "DE": 1, "ZA": 1}


@needs_real
def test_real_first_version_has_no_dispositions() -> None:
    rows = compiled(FIRST)
    assert {r.disposition for r in rows} == {None}
    assert rows[0].original_reference == "**-001"
    assert rows[-1].original_reference == "**-126"


@needs_real
def test_real_iso_collation_output_under_a_doc_name() -> None:
    data = (REAL / ISO_ORIGINAL).read_bytes()
    assert data[:4] == b"PK\x03\x04"  # a .docx despite its name
    rows = compiled(ISO_ORIGINAL)
    by_ref = {r.original_reference: r for r in rows}
    assert by_ref["AFNOR-001"].body == "FR"
    assert by_ref["DK2-005"].body == "DK"
    assert by_ref["ZA-001-030"].body == "ZA"
    assert (by_ref["-009"].body, by_ref["-009"].type) == ("", "ge")  # prefix missing in the file
    assert by_ref["**-117"].type == "ed"  # written "Ed."
    assert rows[-1].original_reference == "**-119"
    # The tool's log in the second section is not a comment table.
    assert all("Collation successful" not in r.comment for r in rows)


@needs_real
def test_real_hand_edited_collation_with_an_id_column() -> None:
    raw = read_rows(open_docx((REAL / V2_EDITED).read_bytes()))
    assert (raw[0].mb, raw[0].extra_id) == ("AFNOR-001", "FR-007")
    assert (raw[6].mb, raw[6].extra_id) == ("XXX", "TMG-011")
    rows = compiled(V2_EDITED)
    assert (rows[0].body, rows[0].original_reference) == ("FR", "FR-007")
    assert (rows[6].body, rows[6].original_reference, rows[6].element) == ("TMG", "TMG-011", "coverage")
    assert (rows[9].body, rows[9].original_reference) == ("JRC (EC)", "JRC (EC)-014")
    assert rows[0].observation.startswith("https://github.com/opengeospatial/om-swg/issues/187")
    # The edited IDs are the references of the final table.
    assert {r.original_reference for r in rows} == {r.original_reference for r in compiled(FINAL)}


@needs_real
def test_real_n5600_liaisons_and_two_paragraph_references() -> None:
    rows = compiled(N5600)
    assert (rows[0].body, rows[0].original_reference, rows[0].clause) == ("IOGP", "IOGP-001", "Document")
    assert (rows[1].body, rows[1].original_reference) == ("CN", "CN-001")
    assert (rows[2].original_reference, rows[2].type) == ("CN-002", "ed")  # type written "\tEd"
    assert rows[4].original_reference == "TMG-005"  # written "\tTMG-005"
    assert Counter(r.body for r in rows) == {"IOGP": 6, "CN": 5, "TMG": 5, "GB": 4, "DSM": 1}
    assert Counter(r.disposition for r in rows) == {"accepted": 11, None: 9, "rejected": 1}
    assert rows[8].observation.startswith("The intent, at least in OGC")
    # Uploaded as China's own file, every other body's row is a problem.
    ours, problems = parse_national_comments((REAL / N5600).read_bytes(), "CN", ALIASES)
    assert len(ours) == 21
    assert [p.row for p in problems] == [r.row for r in rows if r.body != "CN"]


@needs_real
def test_real_tc171_blank_row_is_counted_and_not_accepted_is_rejected() -> None:
    rows = compiled(TC171)
    assert [(r.row, r.body, r.clause, r.type, r.disposition) for r in rows] == [
        (1, "US", "4.1", "te", "rejected"),
        (2, "AU", "4.2", "ge", "accepted_in_principle"),
        (4, "PL", "4.2", "te", "accepted"),
    ]
    assert rows[0].observation.startswith("Like any other decision")
