"""A body's comments as a spreadsheet (#14 item 8): .xlsx and .csv read by their headings, with the
Word form's checks, row numbers and all-or-nothing."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import openpyxl
import pytest

from schemas.comments import CompiledRow
from services.documents.reader import parse_national_comments
from services.documents.safety import UploadRejected
from services.documents.spreadsheets import to_csv

ALIASES = {"DE": "DE", "DIN": "DE", "FR": "FR", "AFNOR": "FR"}
HEADINGS = [
    "MB/NC",
    "Line number",
    "Clause/Subclause",
    "Paragraph/Figure/Table/",
    "Type of comment",
    "Comments",
    "Proposed change",
    "Observations of the secretariat",
]


def xlsx(rows: list[list[Any]], *, title_rows: int = 0) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for i in range(title_rows):
        sheet.append([f"Comments of DIN on ISO/DIS 11367 ({i})"])
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def comment(n: int, body: str = "DE") -> list[Any]:
    return [f"{body}-{n:03d}", 10 + n, f"3.{n}", "Table 1", "te", f"Comment {n}.", f"Change {n}.", ""]


def test_a_filled_xlsx_is_read_like_the_word_form() -> None:
    rows, problems = parse_national_comments(xlsx([HEADINGS, comment(1), comment(2)]), "DE", ALIASES)
    assert problems == []
    assert [(r.row, r.clause, r.line, r.type, r.comment, r.proposed_change) for r in rows] == [
        (2, "3.1", "11", "te", "Comment 1.", "Change 1."),
        (3, "3.2", "12", "te", "Comment 2.", "Change 2."),
    ]
    assert rows[0].original_reference == "DE-001"


def test_headings_in_another_order_on_a_later_row_with_extra_columns() -> None:
    order = [5, 2, 0, 4, 6, 1, 3]  # no observations column, and a column of the body's own
    headings = [HEADINGS[i] for i in order] + ["Internal note"]
    data = [[comment(n)[i] for i in order] + ["ours"] for n in (1, 2)]
    rows, problems = parse_national_comments(xlsx([headings, *data], title_rows=3), "DE", ALIASES)
    assert problems == []
    assert [(r.row, r.clause, r.comment, r.element) for r in rows] == [
        (5, "3.1", "Comment 1.", "Table 1"),
        (6, "3.2", "Comment 2.", "Table 1"),
    ]


def test_a_csv_with_semicolons_and_a_byte_order_mark() -> None:
    lines = [";".join(HEADINGS), "DE-001;17;3.1;;ed;Typo in “scope” (é);Fix;", 'DE-002;;4;;te;"Two\nlines";"a;b";']
    rows, problems = parse_national_comments(("\ufeff" + "\r\n".join(lines)).encode(), "DE", ALIASES)
    assert problems == []
    assert [(r.row, r.clause, r.type, r.comment, r.proposed_change) for r in rows] == [
        (2, "3.1", "ed", "Typo in “scope” (é)", "Fix"),
        (3, "4", "te", "Two\nlines", "a;b"),
    ]


def test_a_csv_with_commas_and_no_byte_order_mark() -> None:
    text = ",".join(HEADINGS) + "\n" + "DE-1,,General,,ge,Fine overall.,,\n"
    rows, problems = parse_national_comments(text.encode(), "DE", ALIASES)
    assert problems == [] and [r.comment for r in rows] == ["Fine overall."]


def test_a_text_our_csv_download_guarded_as_a_formula_reads_back_as_written() -> None:
    text = ",".join(HEADINGS) + "\nDE-001,,3.1,,te,'=1+1 is wrong,,\n"
    rows, problems = parse_national_comments(text.encode(), "DE", ALIASES)
    assert problems == [] and rows[0].comment == "=1+1 is wrong"


def test_a_bodys_rows_from_our_csv_download_read_back() -> None:
    fields = dict.fromkeys(CompiledRow._fields, "")
    fields.update(body="DE", reference="DE-001", clause="3.1", type="te", comment="Clear?")
    fields.update(disposition=None)
    exported = to_csv([CompiledRow(**fields)])
    rows, problems = parse_national_comments(exported, "DE", ALIASES)
    assert problems == []
    assert [(r.original_reference, r.clause, r.type, r.comment) for r in rows] == [("DE-001", "3.1", "te", "Clear?")]


def test_a_formula_cell_is_refused_with_its_row() -> None:
    rows = [HEADINGS, comment(1), comment(2)]
    rows[2][5] = "=CONCAT(A3, B3)"
    _, problems = parse_national_comments(xlsx(rows), "DE", ALIASES)
    assert [(p.row, "formula" in p.message) for p in problems] == [(3, True)]


def test_a_row_of_another_body_is_refused_as_in_the_word_form() -> None:
    _, problems = parse_national_comments(xlsx([HEADINGS, comment(1), comment(2, "FR")]), "DE", ALIASES)
    assert len(problems) == 1 and problems[0].row == 3 and "belongs to FR" in problems[0].message


def test_a_type_the_form_refuses_is_refused_here_too() -> None:
    rows = [HEADINGS, comment(1)]
    rows[1][4] = "urgent"
    _, problems = parse_national_comments(xlsx(rows), "DE", ALIASES)
    assert problems and problems[0].row == 2 and "type of comment" in problems[0].message


def test_a_sheet_without_the_headings_is_refused() -> None:
    with pytest.raises(UploadRejected, match="heading row"):
        parse_national_comments(xlsx([["a", "b"], ["c", "d"]]), "DE", ALIASES)
    with pytest.raises(UploadRejected, match="heading row"):
        parse_national_comments(b"just some text\nno headings\n", "DE", ALIASES)


def test_a_csv_that_is_not_utf8_is_refused() -> None:
    data = (";".join(HEADINGS) + "\nDE-1;;1;;te;Caf\xe9;;\n").encode("latin-1")
    with pytest.raises(UploadRejected, match="UTF-8"):
        parse_national_comments(data, "DE", ALIASES)


def test_a_5000_row_sheet_is_read_in_time() -> None:
    data = xlsx([HEADINGS, *(comment(n) for n in range(1, 5001))])
    started = time.perf_counter()
    rows, problems = parse_national_comments(data, "DE", ALIASES)
    assert problems == [] and len(rows) == 5000 and rows[-1].row == 5001
    assert time.perf_counter() - started < 15


def test_an_xlsx_zip_bomb_is_refused_before_it_is_opened() -> None:
    buffer = io.BytesIO(xlsx([HEADINGS, comment(1)]))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/media/padding.xml", b" " * 5_000_000)
    with pytest.raises(UploadRejected, match="zip bomb"):
        parse_national_comments(buffer.getvalue(), "DE", ALIASES)


def test_formats_the_word_reader_refuses_stay_refused() -> None:
    for data, words in ((b"%PDF-1.4 ...", "PDF"), (b"<html><body>x</body></html>", "web page")):
        with pytest.raises(UploadRejected, match=words):
            parse_national_comments(data, "DE", ALIASES)
