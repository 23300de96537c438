"""The comment table's vocabulary: disposition words, columns (headings, cell styles, widths), page geometry."""

from __future__ import annotations

from docx.shared import Mm

__all__ = ["COLUMN_HEADINGS", "DISPOSITION_WORDS", "disposition_words"]


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
