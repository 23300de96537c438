"""The results report of a ballot (SPEC §4.2), written with python-docx (a few hundred rows at most).

Contents: the document name and "Result of voting"; the ballot facts (the ballot named by its
document and type, rulebook, dates as people write them, committee, project); one row per party
(its standing — P-member, O-member, member body outside the committee, liaison —, position in
words, the technical reasons as given, and for an NP the commitment to participate and the
experts); the counts; each criterion with its votes as a share ("6 of 7 P-members voting approve:
85.7 % (≥ 66.7 % needed)", from the rules that closed the ballot), its arithmetic and whether it
passed; the outcome in bold; the P-members that did not vote; the flags. A disapproval without
technical reasons is shown, flagged "not counted at DIS/FDIS", where the ballot's rulebook
excludes it. One font family, Arial, throughout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from schemas.enums import BallotType
from services.documents.frame import add_page_of_pages, drop_template_extras, use_one_font
from services.documents.xmltext import clean_text
from services.rules.approval import Criterion, explain
from services.rules.approval import rulebook as find_rulebook
from services.rules.ballot_types import spec

__all__ = ["POSITION_WORDS", "ReportInfo", "ReportParty", "position_words", "write_results_report"]


Standing = Literal["P", "O", "outside", "liaison"]
STANDING_WORDS: dict[str, str] = {
    "P": "P-member",
    "O": "O-member",
    # At DIS and FDIS every member body votes, in the committee or not.
    "outside": "Member body outside the committee",
    "liaison": "Liaison",
}


@dataclass(frozen=True)
class ReportParty:
    party: str  # "DE" or a liaison
    name: str  # "DIN" or organisation name
    standing: Standing  # in the committee when the ballot opened
    may_vote: bool
    position: str | None  # None = did not vote
    reasons: str  # the technical reasons as given ("" = none)
    participate: bool | None
    experts: tuple[str, ...]


@dataclass(frozen=True)
class ReportInfo:
    ballot_type: str  # "DIS"
    rulebook: str  # "iso"
    document: str  # "ISO/DIS 11367"
    project_reference: str
    project_title: str
    committee: str  # "ISO/TC 312"
    opened_at: datetime | None
    closes_at: datetime
    closed_at: datetime | None


POSITION_WORDS: dict[str, str] = {
    "approve": "Approval",
    "approve_with_comments": "Approval with comments",
    "disapprove": "Disapproval",
    "abstain": "Abstention",
    "confirm": "Confirm",
    "revise": "Revise",
    "withdraw": "Withdraw",
}
DID_NOT_VOTE = "Did not vote"
NOT_ELIGIBLE = "Not eligible to vote (comments only)"
NOT_COUNTED = "No — not counted at DIS/FDIS"

# "Voting" as in the criteria: approving or disapproving; a body that abstains has returned a
# vote but is not voting. Member bodies are P-members, O-members and those outside the committee.
_COUNT_LABELS: dict[str, str] = {
    "p_members": "P-members when the ballot opened",
    "p_voted": "P-members that returned a vote (abstentions included)",
    "p_approve": "P-members approving",
    "p_disapprove": "P-members disapproving (counted)",
    "p_abstain": "P-members abstaining",
    "all_voted": "Member bodies that returned a vote (abstentions included)",
    "all_approve": "Member bodies approving",
    "all_disapprove": "Member bodies disapproving (counted)",
    "all_abstain": "Member bodies abstaining",
    "disapprove_without_reasons": "Disapprovals without technical reasons (not counted)",
    "p_participating": "Approving P-members committed to participate",
    "confirm": "P-members voting to confirm",
    "revise": "P-members voting to revise",
    "withdraw": "P-members voting to withdraw",
}
# Counts that only mean something for some ballot types: shown there, or when not zero.
_COUNTS_ONLY_FOR: dict[str, str] = {
    "p_participating": "NP",
    "confirm": "SR",
    "revise": "SR",
    "withdraw": "SR",
}

_TEXT_WIDTH_MM = 170  # A4 portrait with 20 mm margins


def position_words(position: str | None, *, may_vote: bool = True) -> str:
    if position is None or position == "":
        return DID_NOT_VOTE if may_vote else NOT_ELIGIBLE
    return POSITION_WORDS.get(position, position.replace("_", " ").capitalize())


def _t(value: object) -> str:
    return clean_text(str(value))


def human_time(moment: datetime | None, missing: str = "—") -> str:
    """``2026-08-27 11:12 UTC``: to the minute, in UTC (a naive time is taken as UTC)."""
    if moment is None:
        return missing
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def ballot_name(info: ReportInfo) -> str:
    """``DIS ballot on ISO/DIS 11367``, ``CD consultation on ISO/CD 11367``."""
    try:
        label = spec(BallotType(info.ballot_type)).label or info.ballot_type
    except ValueError:
        label = info.ballot_type
    kind = label if "consultation" in label.lower() else f"{label} ballot"
    return f"{kind} on {info.document}"


def _excludes_reasonless(info: ReportInfo) -> bool:
    """Whether this ballot's rulebook leaves disapprovals without reasons out of the count."""
    try:
        types = find_rulebook(info.rulebook).exclude_disapproval_without_reasons
        return info.ballot_type.upper() in {str(t.value).upper() for t in types}
    except ValueError:
        return info.ballot_type.upper() in {"DIS", "FDIS"}


def _reasons_text(party: ReportParty, excludes: bool) -> str:
    """The reasons as the body gave them: a disapproval is read for its reasons."""
    reasons = party.reasons.strip()
    if reasons:
        return reasons
    if party.position == "disapprove":
        return NOT_COUNTED if excludes else "No technical reasons given"
    return "—"


def _lines(cell: Any, text: str, *, bold: bool = False) -> None:
    """``text`` in a cell, a paragraph for each of its lines."""
    lines = _t(text).splitlines() or [""]
    first = cell.paragraphs[0]
    for i, line in enumerate(lines):
        paragraph = first if i == 0 else cell.add_paragraph()
        run = paragraph.add_run(line)
        if bold:
            run.bold = True


def _keep_row_together(row: Any, *, header: bool = False) -> None:
    """Rows here are short: never split one across pages; repeat the heading row on each page."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


def _table(doc: Any, headings: Sequence[str], widths_mm: Sequence[float]) -> Any:
    table = doc.add_table(rows=1, cols=len(headings))
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    for column, w in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(w)
    head = table.rows[0]
    for cell, text, w in zip(head.cells, headings, widths_mm, strict=True):
        cell.width = Mm(w)
        cell.paragraphs[0].add_run(_t(text)).bold = True
    _keep_row_together(head, header=True)
    return table


def _add_row(table: Any, values: Sequence[str], widths_mm: Sequence[float], *, bold: bool = False) -> None:
    row = table.add_row()
    _keep_row_together(row)
    for cell, value, w in zip(row.cells, values, widths_mm, strict=True):
        cell.width = Mm(w)
        _lines(cell, value, bold=bold)


def _setup(doc: Any) -> None:
    drop_template_extras(doc)
    section = doc.sections[0]
    section.page_width = Mm(210)
    section.page_height = Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(20)
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(4)
    for name in ("Title", "Heading 1", "Heading 2"):
        style = styles[name]
        style.font.color.rgb = RGBColor(0, 0, 0)
    title_border = styles["Title"].element.pPr.find(qn("w:pBdr"))
    if title_border is not None:  # python-docx's blue rule under the title
        styles["Title"].element.pPr.remove(title_border)
    styles["Title"].font.size = Pt(18)
    styles["Heading 1"].font.size = Pt(13)
    use_one_font(doc)


def _facts(doc: Any, info: ReportInfo) -> None:
    project = info.project_reference
    if info.project_title:
        project = f"{project} — {info.project_title}" if project else info.project_title
    facts = (
        ("Ballot", ballot_name(info)),
        ("Ballot type", info.ballot_type),
        ("Rulebook", info.rulebook.upper()),
        ("Document", info.document),
        ("Project", project),
        ("Committee", info.committee),
        ("Opened", human_time(info.opened_at, "not opened")),
        ("Closes", human_time(info.closes_at)),
        ("Closed", human_time(info.closed_at, "not closed")),
    )
    widths = (40, _TEXT_WIDTH_MM - 40)
    table = doc.add_table(rows=0, cols=2)
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    for column, w in zip(table.columns, widths, strict=True):
        column.width = Mm(w)
    for label, value in facts:
        row = table.add_row()
        _keep_row_together(row)
        cells = row.cells
        for cell, w in zip(cells, widths, strict=True):
            cell.width = Mm(w)
        cells[0].paragraphs[0].add_run(_t(label)).bold = True
        cells[1].paragraphs[0].add_run(_t(value))


def _votes(doc: Any, info: ReportInfo, parties: Sequence[ReportParty]) -> None:
    doc.add_heading("Votes", level=1)
    if not parties:
        doc.add_paragraph("No member bodies were eligible.")
        return
    show_np = info.ballot_type.upper() == "NP" or any(p.participate is not None or p.experts for p in parties)
    excludes = _excludes_reasonless(info)
    if show_np:
        headings = [
            "Member body",
            "Organisation",
            "Standing",
            "Position",
            "Technical reasons",
            "Participation",
            "Experts",
        ]
        widths: list[float] = [18, 22, 22, 24, 38, 20, 26]
    else:
        headings = ["Member body", "Organisation", "Standing", "Position", "Technical reasons"]
        widths = [20, 26, 30, 28, 66]
    table = _table(doc, headings, widths)
    for p in parties:
        standing = STANDING_WORDS.get(p.standing, p.standing)
        values = [
            p.party,
            p.name,
            standing,
            position_words(p.position, may_vote=p.may_vote),
            _reasons_text(p, excludes),
        ]
        if show_np:
            participate = {True: "Yes", False: "No", None: "—"}[p.participate]
            values += [participate, "; ".join(p.experts) if p.experts else "—"]
        _add_row(table, values, widths)


def _counts(doc: Any, info: ReportInfo, counts: Mapping[str, Any]) -> None:
    doc.add_heading("Counts", level=1)
    widths = (130, _TEXT_WIDTH_MM - 130)
    table = _table(doc, ["Count", "Number"], widths)
    ballot_type = info.ballot_type.upper()
    excludes = _excludes_reasonless(info)
    for key, value in counts.items():
        only = _COUNTS_ONLY_FOR.get(key)
        if only is not None and only != ballot_type and not value:
            continue
        if key == "disapprove_without_reasons" and not excludes and not value:
            continue
        _add_row(table, [_COUNT_LABELS.get(key, key.replace("_", " ").capitalize()), str(value)], widths)


def _explained(result: Mapping[str, Any]) -> list[Criterion]:
    """The result's criteria with their labels and shares, from the rules that closed the ballot;
    a result they cannot read is shown as stored."""
    try:
        return list(explain(result))
    except ValueError:
        return [
            Criterion(str(c.get("name", "")), bool(c.get("passed")), str(c.get("arithmetic", "")))
            for c in result.get("criteria") or []
        ]


def _criteria(doc: Any, result: Mapping[str, Any], excludes: bool) -> None:
    doc.add_heading("Criteria", level=1)
    widths = (42, 60, 50, _TEXT_WIDTH_MM - 152)
    table = _table(doc, ["Criterion", "Votes", "Arithmetic", "Result"], widths)
    for c in _explained(result):
        _add_row(table, [c.label or c.name, c.share or "—", c.arithmetic, "Passed" if c.passed else "Failed"], widths)
    nor = ", nor disapprovals without technical reasons" if excludes else ""
    note = doc.add_paragraph(f"Voting means approving or disapproving: abstentions are not counted{nor}.")
    note.paragraph_format.space_before = Pt(4)


def _outcome_text(result: Mapping[str, Any]) -> str:
    if "comment-only" in (result.get("flags") or ()):
        return "Outcome: no vote (comment-only consultation)"
    return "Outcome: approved" if result.get("approved") else "Outcome: not approved"


def _footer(doc: Any, info: ReportInfo) -> None:
    footer = doc.sections[0].footer
    p = footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run(_t(f"{info.document} — result of voting — "))
    run.font.size = Pt(8)
    add_page_of_pages(p)
    for r in p.runs:
        r.font.size = Pt(8)


def write_results_report(
    info: ReportInfo, result: Mapping[str, Any], parties: Sequence[ReportParty], out: BinaryIO
) -> None:
    """Write the results report as .docx into ``out``.

    ``result`` is ``BallotResult.to_dict()`` (services.rules.approval).
    """
    doc = Document()
    _setup(doc)

    doc.add_heading(_t(f"{info.document} — Result of voting"), level=0)
    _facts(doc, info)
    _votes(doc, info, parties)
    _counts(doc, info, result.get("counts") or {})
    _criteria(doc, result, _excludes_reasonless(info))

    outcome = doc.add_paragraph()
    outcome.paragraph_format.space_before = Pt(8)
    run = outcome.add_run(_outcome_text(result))
    run.bold = True
    run.font.size = Pt(12)

    doc.add_heading("P-members that did not vote", level=1)
    names = {p.party: p.name for p in parties}
    not_voted = list(result.get("not_voted") or [])
    if not_voted:
        for code in not_voted:
            name = names.get(code)
            doc.add_paragraph(_t(f"{code} ({name})" if name else code), style="List Bullet")
    else:
        doc.add_paragraph("None: every P-member voted.")

    doc.add_heading("Notes", level=1)
    flags = [f for f in (result.get("flags") or []) if f]
    if flags:
        for flag in flags:
            doc.add_paragraph(_t(flag), style="List Bullet")
    else:
        doc.add_paragraph("None.")

    _footer(doc, info)
    props = doc.core_properties
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    props.title = _t(f"{info.document} — Result of voting")
    props.subject = _t(info.project_title)
    props.author = "Ballotdesk"
    props.last_modified_by = "Ballotdesk"
    props.comments = ""
    props.created = now
    props.modified = now
    props.revision = 1
    doc.save(out)
