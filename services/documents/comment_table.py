"""The compiled comment table (SPEC §4.1) in the layout of ISO's 2012-03 commenting template.

Layout, as in the official template (its widths, words, margins and spacing, in twips): A4
landscape with 15-mm margins; the page header holds a title row ("Template for comments and
secretariat observations" 7740 | Date 2410 | Document 3119 | Project 2607) and a table with the
eight column headings, so the headings repeat on every page without a repeating header row; the
body holds only data rows, in cells whose paragraphs carry the styles ``ISOMB``, ``ISOClause``,
``ISOParagraph``, ``ISOCommType``, ``ISOComments``, ``ISOChange`` and ``ISOSecretObservations``
(collation tools look for them); the columns are 606, 908, 1209, 1209, 1115, 4177, 4233 and 2419
wide, 15,876 in all: wider than the text, centred into the margins as the template's; the footer
holds the two footnotes, "page X of Y" and the template's form line (the words, columns and
geometry are in ``table_vocabulary``).

How it is written (for speed and memory, see perf-anchors §1): python-docx builds the frame
(``table_frame``) — styles, section, header, footer, and a body table holding one placeholder
row — once per process, with markers where the date, document and project go. Each call then
writes the final zip part by part: every part copied unchanged (the header and core properties
with the values put in for the markers) except ``word/document.xml``, which is streamed: the
frame's XML up to the placeholder row, then each comment's row generated as a string
(``table_rows``) and written in chunks of a few hundred rows, then the rest. Rows are never held
in memory all at once.

Choices:
* MB/NC cell: the comment reference alone (``DE-001``), as ISO's collation tool writes it
  (``AFNOR-001``, ``**-002``, ``DK2-005`` in its output); the body code is written only when a
  row has no reference. Two paragraphs would read, to tools that parse these tables, as "own
  number / collated number" (``CN-001`` / ``-002``), which is not what we mean.
* Each row is kept on one page (``w:cantSplit``): a row split across pages continues with an
  empty MB/NC cell, a comment without its owner. A row estimated taller than a page may split
  (``measure.row_height``), or Word would cut it off at the page's foot.
* Project cell: the project reference in bold; the title follows in regular type only where it
  fits the line (a wrapped cell would make the header taller on every page).
* Date: the close date of a closed ballot; while it is open the day the file is built, and a
  line above the table says it holds the comments so far.
* Observation cell: when a disposition is set, its first paragraph is the disposition in words,
  then the observation text (one paragraph per line). This is also how uploaded observations are
  read back (SPEC §4.4); an observation that already opens with its disposition ("Accepted: …",
  as uploads keep them) is written as it is, without the words a second time.
* The body is a run of tables of ``ROWS_PER_TABLE`` (200) rows, separated by a 1-pt paragraph:
  LibreOffice lays out a single long table in quadratic time and could not open 20,000 rows in
  reasonable time; split, it is linear. Word shows the same page either way; the headings are in
  the page header. Whoever reads the table back iterates over all tables in order.
* No rows: the body table is left out and a single line says so — Word reports a table without
  rows as a damaged file.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from services.documents.measure import fits_one_line
from services.documents.table_frame import _MARK, _PLACEHOLDER, _STAMP_TEXT, TableInfo, _build_frame_docx
from services.documents.table_rows import _TABLE_SEPARATOR, TableRow, _no_rows_xml, row_xml
from services.documents.table_vocabulary import _CELL_MARGIN, _TITLE_WIDTHS
from services.documents.xmltext import clean_text, escape

_CHUNK_ROWS = 256
# zlib level for the package. Deflating the row XML is most of the writing time: 20,000 rows
# (36 MB of XML) take 0.83 s at level 6 (zlib's default), 0.52 s at level 3 and 0.46 s at
# level 1, for files of 6.7, 7.4 and 7.9 MB.
COMPRESS_LEVEL = 3
# The body is written as consecutive tables of this many rows (0: one table). LibreOffice lays
# out one long table in quadratic time — 1,000 rows took 25 s to convert to PDF, 2,000 rows
# 101 s; 20,000 rows took 14 min to load and the export was still running 27 min later (killed)
# — while tables of 200 rows keep it linear
# (2,000 rows: 22–27 s). The headings are in the page header, so the split does not show
# except as a double rule every 200 rows; readers of these tables accept several tables.
ROWS_PER_TABLE = 200


@dataclass(frozen=True)
class _Frame:
    # (part name, content): bytes are copied as they are, str parts get the values substituted
    parts: tuple[tuple[str, bytes | str], ...]
    table_open: bytes  # the body table's opening, up to its first row
    after_row: bytes
    before_table: bytes
    after_table: bytes
    table_break: str  # ends one body table and opens the next (see ROWS_PER_TABLE)


_TR_OPEN = re.compile(r"<w:tr[ >]")
_TBL_OPEN = re.compile(r"<w:tbl[ >]")


def _last_match(pattern: re.Pattern[str], text: str, end: int) -> int:
    start = -1
    for m in pattern.finditer(text, 0, end):
        start = m.start()
    if start < 0:
        raise RuntimeError("comment table frame: placeholder row not found")
    return start


def _split_frame(document_xml: str) -> tuple[str, str, str, str]:
    """(after the placeholder row, before the whole table, after the whole table, the table's
    opening up to its first row)."""
    at = document_xml.index(_PLACEHOLDER)
    tr_start = _last_match(_TR_OPEN, document_xml, at)
    tr_end = document_xml.index("</w:tr>", at) + len("</w:tr>")
    tbl_start = _last_match(_TBL_OPEN, document_xml, tr_start)
    tbl_end = document_xml.index("</w:tbl>", tr_end) + len("</w:tbl>")
    return (
        document_xml[tr_end:],
        document_xml[:tbl_start],
        document_xml[tbl_end:],
        document_xml[tbl_start:tr_start],
    )


@functools.lru_cache(maxsize=1)
def _frame() -> _Frame:
    package = zipfile.ZipFile(io.BytesIO(_build_frame_docx()))
    parts: list[tuple[str, bytes | str]] = []
    pieces: tuple[str, str, str, str] | None = None
    for item in package.infolist():
        data = package.read(item)
        if item.filename == "word/document.xml":
            pieces = _split_frame(data.decode("utf-8"))
            parts.append((item.filename, b""))
        elif any(m.encode() in data for m in _MARK.values()):
            parts.append((item.filename, data.decode("utf-8")))
        else:
            parts.append((item.filename, data))
    if pieces is None:
        raise RuntimeError("comment table frame: word/document.xml missing")
    text = "".join(p for _, p in parts if isinstance(p, str))
    missing = [m for m in (*_MARK.values(), _STAMP_TEXT) if m not in text]
    if missing:
        raise RuntimeError(f"comment table frame: markers not written: {missing}")
    after_row, before_table, after_table, table_open = (p.encode("utf-8") for p in pieces)
    table_break = "</w:tbl>" + _TABLE_SEPARATOR + pieces[3]
    return _Frame(tuple(parts), table_open, after_row, before_table, after_table, table_break)


def _one_line(value: str) -> str:
    return " ".join(clean_text(value).split())


# The Project cell's line: its width less the cell margins, at the template's 10 pt.
_PROJECT_LINE = _TITLE_WIDTHS[3] - 2 * _CELL_MARGIN


def project_title_shown(info: TableInfo) -> str:
    """The project title where it fits on the Project cell's one line after the reference, else ''.

    A wrapped Project cell makes the page header taller on every page; the reference alone
    identifies the project."""
    title = _one_line(info.project_title)
    if not title:
        return ""
    runs = [("Project:", False), (" " + _one_line(info.project), True), (" " + title, False)]
    return title if fits_one_line(runs, 10, _PROJECT_LINE) else ""


def _substitute(text: str, info: TableInfo, stamp: str) -> str:
    so_far = " (comments so far)" if info.comments_so_far else ""
    values = {
        "title": info.title,
        "date": info.date,
        "document": info.document,
        "project": info.project,
        "project_title": f" {shown}" if (shown := project_title_shown(info)) else "",
        "core_title": f"{info.document} — compiled comments{so_far}",
        "core_subject": " ".join(p for p in (info.project, info.project_title) if p),
    }
    for key, marker in _MARK.items():
        if marker in text:
            value = values[key] if key == "project_title" else _one_line(values[key])
            text = text.replace(marker, escape(value))
    return text.replace(_STAMP_TEXT, stamp)


def _so_far_xml(info: TableInfo) -> bytes:
    """The line above the table of a ballot that is still open."""
    if not info.comments_so_far:
        return b""
    text = (
        f"Comments so far: the ballot is still open; this table holds the comments received by {info.date}. "
        "It is not the final compilation."
    )
    return (
        '<w:p><w:pPr><w:pStyle w:val="ISOComments"/><w:keepNext/></w:pPr>'
        f"<w:r><w:rPr><w:b/></w:rPr><w:t>{escape(_one_line(text))}</w:t></w:r></w:p>"
    ).encode()


def write_comment_table(info: TableInfo, rows: Iterable[TableRow], out: BinaryIO) -> int:
    """Stream a complete .docx into ``out``; return the number of rows written.

    ``rows`` is consumed once, in the order given; only a chunk of a few hundred rows' XML is
    held in memory at a time.
    """
    frame = _frame()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    iterator = iter(rows)
    first = next(iterator, None)
    count = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for name, content in frame.parts:
            if name != "word/document.xml":
                data = content if isinstance(content, bytes) else _substitute(content, info, stamp).encode("utf-8")
                zf.writestr(name, data)
                continue
            with zf.open(name, "w") as stream:
                note = _so_far_xml(info)
                if first is None:
                    stream.write(frame.before_table + note + _no_rows_xml().encode("utf-8") + frame.after_table)
                    continue
                stream.write(frame.before_table + note + frame.table_open)
                chunk = [row_xml(first)]
                count = 1
                for row in iterator:
                    if ROWS_PER_TABLE and count % ROWS_PER_TABLE == 0:
                        chunk.append(frame.table_break)
                    chunk.append(row_xml(row))
                    count += 1
                    if len(chunk) >= _CHUNK_ROWS:
                        stream.write("".join(chunk).encode("utf-8"))
                        chunk.clear()
                stream.write("".join(chunk).encode("utf-8"))
                stream.write(frame.after_row)
    return count
