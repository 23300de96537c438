"""Column headings: the fields a comment table's columns hold, its layouts, and which rows are headings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from services.documents.reader.grid import HEADER_REL, W_TBL, _Cell, _table_cells

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

# Field names used internally for columns.
MB, ID, LINE, CLAUSE, ELEMENT, TYPE, COMMENT, CHANGE, OBS = (
    "mb", "id", "line", "clause", "element", "type", "comment", "change", "obs",
)  # fmt: skip
LAYOUT_2012: tuple[str | None, ...] = (MB, LINE, CLAUSE, ELEMENT, TYPE, COMMENT, CHANGE, OBS)
LAYOUT_2001: tuple[str | None, ...] = (MB, CLAUSE, ELEMENT, TYPE, COMMENT, CHANGE, OBS)
LAYOUT_9: tuple[str | None, ...] = (MB, ID, LINE, CLAUSE, ELEMENT, TYPE, COMMENT, CHANGE, OBS)
_LAYOUTS = {7: LAYOUT_2001, 8: LAYOUT_2012, 9: LAYOUT_9}


_HINT = re.compile(r"\(.*?\)", re.S)
_NON_LETTERS = re.compile(r"[^a-z]+")


def _heading_field(text: str) -> str | None:
    """The column a heading cell names ("MB/NC¹", "Type of com-ment²", "Issue" …), or None."""
    if not text or len(text) > 120:
        return None
    compact = _NON_LETTERS.sub("", _HINT.sub(" ", text.lower()))
    if not compact:
        return None
    if compact in ("mb", "nc", "mbnc", "nb", "memberbody", "nationalbody", "country") or compact.startswith("mbnc"):
        return MB
    if compact.startswith("line"):
        return LINE
    if compact.startswith(("clause", "subclause", "section")):
        return CLAUSE
    if compact.startswith(("paragraph", "figure", "table", "element")):
        return ELEMENT
    if compact.startswith(("typeof", "commenttype")) or compact == "type":
        return TYPE
    if compact.startswith("comment"):
        return COMMENT
    if compact.startswith("proposed") or compact in ("change", "changes"):
        return CHANGE
    if (
        "observation" in compact
        or "secretariat" in compact
        or compact in ("issue", "disposition", "resolution", "decision", "response", "responses")
    ):
        return OBS
    if compact in ("id", "no", "nr", "number", "ref", "reference", "commentid"):
        return ID
    return None


def _heading_fields(cells: list[_Cell]) -> list[str | None] | None:
    """The fields named by a heading row, or None when ``cells`` is not a heading row."""
    texts = [c.text for c in cells]
    filled = [t for t in texts if t]
    if len(filled) >= 5 and filled == [str(i) for i in range(1, len(filled) + 1)]:
        return []  # the 2001-09 form's column-number row: a heading row naming nothing
    if len(filled) < 4 or sum(len(t) for t in filled) > 1000:
        return None
    # Cheap tests first (most rows are data): the first heading names the MB/NC (or an ID)
    # column, and some heading starts with "Comment".
    if _heading_field(filled[0]) not in (MB, ID):
        return None
    if not any(t[:24].lower().lstrip("(0123456789) ").startswith("comment") for t in filled):
        return None
    fields = [_heading_field(t) for t in texts]
    named = {f for f in fields if f is not None} - {ID}
    if len(named) >= 4 and COMMENT in named and sum(f is not None for f in fields) * 2 >= len(filled):
        return fields
    return None


def _header_has_headings(document: DocxDocument) -> bool:
    """Whether any page header carries the comment-table column headings (2012-03, 2001-09)."""
    try:
        rels = list(document.part.rels.values())
    except Exception:
        return False
    for rel in rels:
        if rel.reltype != HEADER_REL or rel.is_external:
            continue
        root = getattr(rel.target_part, "element", None)
        if root is None:
            continue
        for tbl in root.iter(W_TBL):
            for cells in _table_cells(tbl):
                if _heading_fields(cells):
                    return True
    return False
