"""Reading filled ISO commenting templates and compiled comment tables (.docx).

Two layers:

* ``read_rows(document)`` (in ``tables``, on the cell grid of ``grid`` and the headings of
  ``headings``) finds the comment tables of an opened python-docx document and returns every data
  row as text (``RawRow``), tolerating what real committee files contain: headings in
  the page header (2012-03 template) or in body rows (older copies, pasted tables), the 2001-09
  seven-column layout, an extra ID column (nine cells under eight headings), cells spanning grid
  columns (``gridSpan``), vertical merges (``vMerge``), ``gridBefore``/``gridAfter``, blank rows,
  stray empty paragraphs, tracked changes (insertions kept, deletions dropped).
* ``parse_national_comments`` (one body's upload, strict: SPEC §4.3) and ``parse_compiled_table``
  (anyone's compiled table, tolerant: SPEC §4.4), in ``policies``, turn raw rows into ``CommentRow``s
  and ``RowProblem``s, with the cell parsers ``parse_mb``, ``parse_type`` and ``parse_observation``
  (``cells``).

Row numbers
-----------
``row`` is the number a person finds by counting table rows in Word: rows are counted in document
order through every comment table (the count continues from one comment table into the next),
starting at 1 with the first row that is not a heading row. Heading rows (the column headings, or
the 2001-09 form's "1 2 3 … 7" numbering row, wherever they appear in a comment table) are not
counted. Every other row *is* counted, including blank rows and title rows that are skipped, so
"row 7" is the seventh row under the headings even when row 3 is empty. Rows of tables that are
not comment tables are never counted. Row 0 is used for problems about the whole file.

Speed: never python-docx's ``Table.cell()``/``_Row.cells`` (quadratic, then slow). Each table is
turned into text by one small XSLT pass over its lxml elements (``w:tr`` → ``w:tc`` → ``w:p`` →
``w:t``, in C), which avoids creating ~10 Python element proxies per cell: a 5,000-row template
parses end to end (safety checks, python-docx load, reading, validation) in about 0.5 s.
"""

from __future__ import annotations

from services.documents.reader.cells import parse_mb, parse_observation, parse_type
from services.documents.reader.policies import (
    NO_COMMENT_TABLE,
    CommentRow,
    RowProblem,
    parse_compiled_table,
    parse_national_comments,
)
from services.documents.reader.tables import RawRow, read_rows

__all__ = [
    "NO_COMMENT_TABLE",
    "CommentRow",
    "RawRow",
    "RowProblem",
    "parse_compiled_table",
    "parse_mb",
    "parse_national_comments",
    "parse_observation",
    "parse_type",
    "read_rows",
]
