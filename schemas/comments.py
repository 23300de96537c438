"""One comment shape and one set of field limits, for the API payloads, the tables, the template
reader, imports, pages and exports. The columns are those of the ISO commenting template
(2012-03): MB/NC, line, clause, paragraph/figure/table, type, comment, proposed change, and the
secretariat's observation with its disposition."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, NamedTuple

MAX_LINE = 100
MAX_CLAUSE = 200
MAX_ELEMENT = 200
MAX_TEXT = 20_000  # a comment, a proposed change, an observation
MAX_REFERENCE = 60
MAX_TYPE = 20
MAX_TYPE_AS_WRITTEN = 40
MAX_DISPOSITION = 32
MAX_BODY = 40  # a member body's code, or a liaison's name as written in a compiled table
MAX_PER_SET = 5000  # comments in one body's set

# What a body fills in, in the template's order (the pages' comment rows, the API's CommentIn).
WRITTEN = ("line", "clause", "element", "type", "comment", "proposed_change")


@dataclass(frozen=True, kw_only=True)
class CommentFields:
    """What a comment says, as stored: the body's columns and the secretariat's answer."""

    line: str = ""
    clause: str = ""
    element: str = ""  # paragraph/figure/table/note
    type: str = ""  # "ge" | "te" | "ed" | ""
    type_as_written: str = ""  # the cell as written when it was not plainly ge/te/ed, else ""
    comment: str = ""
    proposed_change: str = ""
    observation: str = ""  # the rationale (the text after the disposition)
    disposition: str | None = None
    original_reference: str = ""  # the file's own reference ("AFNOR-003"); "" if none


FIELD_NAMES = tuple(f.name for f in fields(CommentFields))


def fields_of(value: CommentFields) -> dict[str, Any]:
    """The comment fields of `value` (a reader's row, a new comment) as keyword arguments."""
    return {name: getattr(value, name) for name in FIELD_NAMES}


class CompiledRow(NamedTuple):
    """A current comment as the compiled table, the spreadsheets and their ordering read it."""

    body: str
    reference: str
    line: str
    clause: str
    element: str
    type: str
    type_as_written: str
    comment: str
    proposed_change: str
    observation: str
    disposition: str | None

    @property
    def shown_type(self) -> str:
        """The type as the table shows it: as written, when it was not plainly ge/te/ed."""
        return self.type_as_written or self.type
