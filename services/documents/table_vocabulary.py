"""The comment table's vocabulary: disposition words, columns (headings, cell styles, widths), page geometry."""

from __future__ import annotations

__all__ = ["COLUMN_HEADINGS", "DISPOSITION_WORDS", "FORM_LINE", "disposition_words"]


DISPOSITION_WORDS: dict[str, str] = {
    "accepted": "Accepted",
    "accepted_in_principle": "Accepted in principle",
    "partially_accepted": "Partially accepted",
    "noted": "Noted",
    "rejected": "Rejected",
    "withdrawn": "Withdrawn",
}


def disposition_key(disposition: str) -> str:
    """``Accepted in principle`` or ``accepted-in-principle`` → ``accepted_in_principle``."""
    return disposition.strip().lower().replace(" ", "_").replace("-", "_")


def disposition_words(disposition: str) -> str:
    """``accepted_in_principle`` → ``Accepted in principle``; an unknown value is shown humanised."""
    words = DISPOSITION_WORDS.get(disposition_key(disposition))
    if words is not None:
        return words
    text = disposition.strip().replace("_", " ")
    return text[:1].upper() + text[1:]


# --- geometry ---------------------------------------------------------------------------------
# All in twips, as the official template (reference/iso_comment_template_2012-03.docx) has them.

# (heading, example line, paragraph style of the data cells, width). The heading's words are
# the template's; where it breaks a heading over lines it does so after a "/ ".
_COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("MB/NC", "", "ISOMB", 606),
    ("Line number", "(e.g. 17)", "ISOClause", 908),
    ("Clause/ Subclause", "(e.g. 3.1)", "ISOClause", 1209),
    ("Paragraph/ Figure/ Table/", "(e.g. Table 1)", "ISOParagraph", 1209),
    ("Type of comment", "", "ISOCommType", 1115),
    ("Comments", "", "ISOComments", 4177),
    ("Proposed change", "", "ISOChange", 4233),
    ("Observations of the secretariat", "", "ISOSecretObservations", 2419),
)
COLUMN_HEADINGS: tuple[str, ...] = tuple(c[0] for c in _COLUMNS)
_WIDTHS: tuple[int, ...] = tuple(c[3] for c in _COLUMNS)
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

_PAGE_WIDTH = 16840  # A4 landscape
_PAGE_HEIGHT = 11907
_MARGIN = 851  # 15 mm on every side
_HEADER_FOOTER_DISTANCE = 567  # 10 mm
_CELL_MARGIN = 99  # left and right inside each cell
# The tables (15,876) are wider than the text (15,138): centred, they reach 369 twips into
# each side margin, as in the template.
# Title row of the page header: title (no borders) | Date | Document | Project.
_TITLE_WIDTHS: tuple[int, ...] = (7740, 2410, 3119, 2607)

FORM_LINE = "ISO/IEC/CEN/CENELEC electronic balloting commenting template/version 2012-03"
