"""The WordprocessingML streamed into the comment table's body: a row per comment, table breaks, no-rows line."""

from __future__ import annotations

from dataclasses import dataclass

from services.documents.table_vocabulary import _COLUMNS, _WIDTHS, disposition_words
from services.documents.xmltext import escape, paragraphs_xml

__all__ = ["TableRow", "row_xml"]


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


_TC_OPEN: tuple[str, ...] = tuple(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>' for w in _WIDTHS)
_P_OPEN: tuple[str, ...] = tuple(f'<w:p><w:pPr><w:pStyle w:val="{c[2]}"/></w:pPr>' for c in _COLUMNS)


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


# Between two body tables: a paragraph 1 pt high. Without it Word and LibreOffice join adjacent
# tables into one on opening, and the point of splitting is lost.
_TABLE_SEPARATOR = (
    '<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
    '<w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>'
)

_NO_ROWS_TEXT = "No comments were submitted."


def _no_rows_xml() -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="ISOComments"/></w:pPr><w:r><w:t>{escape(_NO_ROWS_TEXT)}</w:t></w:r></w:p>'
