"""The file policies: strict for a body's own filled template, tolerant for a compiled table from anywhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemas import comments as C
from services.documents.reader.cells import _alias_map, _first_line, _parse_mb, parse_observation, parse_type
from services.documents.reader.sheets import read_csv, read_xlsx
from services.documents.reader.tables import RawRow, _read
from services.documents.safety import UploadLimits, open_docx, upload_kind

NO_COMMENT_TABLE = "No comment table found: use the ISO commenting template."
EMPTY_COMMENT_TABLE = "The comment table holds no comments: fill in at least one row, or upload nothing."


@dataclass(frozen=True, kw_only=True)
class CommentRow(C.CommentFields):
    """A comment read from a file: its row there, its body, and the comment's fields."""

    row: int
    body: str  # resolved member-body code ("DE", "**"), a liaison's name as written, "" if unknown


@dataclass(frozen=True)
class RowProblem:
    row: int
    message: str


def _only_mb(raw: RawRow) -> bool:
    """A row whose only content is the MB/NC cell (forms often come with the code pre-filled)."""
    return not (
        raw.line or raw.clause or raw.element or raw.type or raw.comment or raw.proposed_change or raw.observation
    )


def _body_and_reference(raw: RawRow, amap: Mapping[str, str]) -> tuple[str | None, str]:
    code, reference = _parse_mb(raw.mb, amap)
    if raw.extra_id:
        id_code, id_reference = _parse_mb(raw.extra_id, amap)
        if id_code is not None and id_reference:
            reference = id_reference
            if code is None:
                code = id_code
    return code, reference


def _same_body(code: str, body: str, amap: Mapping[str, str]) -> bool:
    mine = amap.get(body.strip().upper(), body.strip())
    return code.upper() == mine.upper()


def parse_national_comments(
    data: bytes, body: str, aliases: Mapping[str, str], limits: UploadLimits | None = None
) -> tuple[list[CommentRow], list[RowProblem]]:
    """Parse one member body's filled template (SPEC §4.3) — a .docx, or the same columns in an
    .xlsx or .csv (``sheets``) — → (rows, problems).

    Strict where it matters: every row must belong to ``body`` (an empty MB/NC cell, a placeholder
    such as ``XXX`` or a bare number such as ``-009`` means the uploading body), the type must be
    ge/te/ed or empty, the comment must not be empty, and texts must fit the limits. Every problem
    names its row; the caller imports all rows or none. Rows holding nothing but an MB/NC value are
    skipped like blank rows. ``UploadRejected`` from ``open_docx`` propagates.
    """
    kind = upload_kind(data)
    problems: list[RowProblem] = []
    if kind == "docx":
        result = _read(open_docx(data, limits))
        if result.tables == 0:
            return [], [RowProblem(0, NO_COMMENT_TABLE)]
        raws = result.rows
    else:
        sheet = read_xlsx(data, limits) if kind == "xlsx" else read_csv(data)
        raws = sheet.rows
        problems.extend(RowProblem(n, message) for n, message in sheet.problems)
    amap = _alias_map(aliases)
    own = amap.get(body.strip().upper(), body.strip())
    rows: list[CommentRow] = []
    for raw in raws:
        if _only_mb(raw):
            continue
        n = raw.row
        code, reference = _body_and_reference(raw, amap)
        if code is not None and not _same_body(code, own, amap):
            problems.append(
                RowProblem(
                    n,
                    f"Row {n} belongs to {code}, not {own} (its MB/NC cell reads "
                    f"“{_first_line(raw.mb or raw.extra_id)}”): only {own}'s comments can be uploaded here. "
                    "Remove the row or correct its MB/NC cell.",
                )
            )
        type_code, type_written = parse_type(raw.type)
        if type_code is None:
            problems.append(
                RowProblem(
                    n,
                    f"Row {n}: the type of comment “{type_written}” is not ge (general), te (technical) "
                    "or ed (editorial). Correct it or leave the cell empty.",
                )
            )
        if not raw.comment:
            problems.append(RowProblem(n, f"Row {n} has no comment text. Fill in the Comments cell or delete the row."))
        for label, value, limit in (
            ("comment", raw.comment, C.MAX_TEXT),
            ("proposed change", raw.proposed_change, C.MAX_TEXT),
            ("line number", raw.line, C.MAX_LINE),
            ("clause", raw.clause, C.MAX_CLAUSE),
            ("paragraph/figure/table", raw.element, C.MAX_ELEMENT),
        ):
            if len(value) > limit:
                problems.append(
                    RowProblem(
                        n,
                        f"Row {n}: the {label} is {len(value):,} characters long; the limit is {limit:,}. "
                        "Shorten it or split the comment over several rows.",
                    )
                )
        rows.append(_comment_row(raw, own, reference, type_code or "", type_written))
    if not rows and not problems:
        problems.append(RowProblem(0, EMPTY_COMMENT_TABLE))
    return rows, problems


def _comment_row(raw: RawRow, body: str, reference: str, type_code: str, type_written: str) -> CommentRow:
    disposition, rationale = parse_observation(raw.observation)
    return CommentRow(
        row=raw.row,
        body=body,
        original_reference=reference,
        line=raw.line,
        clause=raw.clause,
        element=raw.element,
        type=type_code,
        type_as_written=type_written,
        comment=raw.comment,
        proposed_change=raw.proposed_change,
        observation=rationale,
        disposition=disposition,
    )


def parse_compiled_table(
    data: bytes, aliases: Mapping[str, str], limits: UploadLimits | None = None
) -> tuple[list[CommentRow], list[RowProblem]]:
    """Parse a compiled comment table from anywhere (SPEC §4.4) → (rows, problems).

    Every body's rows are kept, liaisons and ``**`` included, with their original references and
    observations (disposition read from the first paragraph). Tolerant: an unknown type is kept
    as written with ``type=""``; a row whose body cannot be told (empty MB/NC, ``XXX``, ``-009``)
    is kept with ``body=""``; no length limits. Problems only for rows that cannot be used at
    all: rows with neither a comment nor a proposed change (they are left out). Rows holding
    nothing but an MB/NC value are skipped like blank rows.
    """
    document = open_docx(data, limits)
    result = _read(document)
    if result.tables == 0:
        return [], [RowProblem(0, NO_COMMENT_TABLE)]
    amap = _alias_map(aliases)
    rows: list[CommentRow] = []
    problems: list[RowProblem] = []
    for raw in result.rows:
        if _only_mb(raw):
            continue
        n = raw.row
        if not raw.comment and not raw.proposed_change:
            problems.append(RowProblem(n, f"Row {n} has neither a comment nor a proposed change, so it was left out."))
            continue
        code, reference = _body_and_reference(raw, amap)
        type_code, type_written = parse_type(raw.type)
        rows.append(_comment_row(raw, code or "", reference, type_code or "", type_written))
    if not rows and not problems:
        problems.append(RowProblem(0, EMPTY_COMMENT_TABLE))
    return rows, problems
