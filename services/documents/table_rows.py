"""The WordprocessingML streamed into the comment table's body: a row per comment, table breaks, no-rows line."""

from __future__ import annotations

from dataclasses import dataclass

from services.documents.measure import AVERAGE_UNITS
from services.documents.reader.cells import parse_observation
from services.documents.table_vocabulary import _CELL_MARGIN, _COLUMNS, _WIDTHS, disposition_key, disposition_words
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


_TR_KEPT = "<w:tr><w:trPr><w:cantSplit/></w:trPr>"
_TC_OPEN: tuple[str, ...] = tuple(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>' for w in _WIDTHS)
_P_OPEN: tuple[str, ...] = tuple(f'<w:p><w:pPr><w:pStyle w:val="{c[2]}"/></w:pPr>' for c in _COLUMNS)


def _mb_text(row: TableRow) -> str:
    return row.reference or row.body


def _observation_head(row: TableRow) -> str:
    """The disposition in words, to open the observation cell with — or '' where there is none
    or the observation already opens with those words ("Accepted: …"; read as the upload reader
    reads it, so "Accepted in principle" does not pass for "Accepted")."""
    if not row.disposition:
        return ""
    words = disposition_words(row.disposition)
    observation = row.observation.lstrip()
    if observation[: len(words)].casefold() == words.casefold() and parse_observation(observation.partition("\n")[0])[
        0
    ] == disposition_key(row.disposition):
        return ""
    return words


def _observation_xml(head: str, row: TableRow) -> str:
    p_open = _P_OPEN[7]
    if not head:
        return paragraphs_xml(row.observation, p_open)
    if not row.observation.strip():
        return paragraphs_xml(head, p_open)
    return paragraphs_xml(head, p_open) + paragraphs_xml(row.observation, p_open)


# Rows are kept on one page unless estimated taller than the page's body: the page less the
# header (title row and headings, ~1,600 twips) and the footer (~820) — 8,000 with some room.
_PAGE_BODY_HEIGHT = 8000
_LINE = 207  # 9-pt Arial, single spacing
_PARAGRAPH_SPACING = 120  # 3 pt before and after
# Characters on a line of each column (generously wide ones), and the length up to which a
# cell fits the page even if every character began a paragraph.
_PER_LINE = tuple(max(1, int((w - 2 * _CELL_MARGIN) / (AVERAGE_UNITS * 9 * 20 / 1000))) for w in _WIDTHS)
_SAFE = _PAGE_BODY_HEIGHT // (_LINE + _PARAGRAPH_SPACING) // 2


def _fits_a_page(cells: tuple[str, ...]) -> bool:
    """Whether the row is estimated to fit a page: every cell's lines and paragraph spacing."""
    for text, per_line in zip(cells, _PER_LINE, strict=True):
        n = len(text)
        if n <= _SAFE:
            continue
        breaks = text.count("\n")
        # Each paragraph may end in a part-filled line, hence one more line per break.
        if (-(-n // per_line) + breaks) * _LINE + (breaks + 1) * _PARAGRAPH_SPACING > _PAGE_BODY_HEIGHT:
            return False
    return True


def row_xml(row: TableRow) -> str:
    """The ``w:tr`` of one comment (exposed for tests and benchmarks)."""
    tc, p = _TC_OPEN, _P_OPEN
    mb = _mb_text(row)
    head = _observation_head(row)
    # The head adds a paragraph to the observation: counted as a line break for the height.
    observation = f"{head}\n{row.observation}" if head else row.observation
    cells = (mb, row.line, row.clause, row.element, row.type, row.comment, row.proposed_change, observation)
    return (
        f"{_TR_KEPT if _fits_a_page(cells) else '<w:tr>'}{tc[0]}{paragraphs_xml(mb, p[0])}</w:tc>"
        f"{tc[1]}{paragraphs_xml(row.line, p[1])}</w:tc>"
        f"{tc[2]}{paragraphs_xml(row.clause, p[2])}</w:tc>"
        f"{tc[3]}{paragraphs_xml(row.element, p[3])}</w:tc>"
        f"{tc[4]}{paragraphs_xml(row.type, p[4])}</w:tc>"
        f"{tc[5]}{paragraphs_xml(row.comment, p[5])}</w:tc>"
        f"{tc[6]}{paragraphs_xml(row.proposed_change, p[6])}</w:tc>"
        f"{tc[7]}{_observation_xml(head, row)}</w:tc></w:tr>"
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
