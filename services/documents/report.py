"""The results report of a ballot (SPEC §4.2), written with python-docx (a few hundred rows at most).

Contents: the document name and "Result of voting"; the ballot facts (type, rulebook, dates,
committee, project); one row per party (P/O, position in words, technical reasons, and for an NP
the commitment to participate and the experts); the counts; each criterion with its arithmetic
and whether it passed; the outcome in bold; the P-members that did not vote; the flags. A
disapproval without technical reasons is shown, flagged "not counted at DIS/FDIS", where the
ballot's rulebook excludes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Mm, Pt, RGBColor

from services.documents.frame import add_page_of_pages, drop_template_extras
from services.documents.xmltext import clean_text
from services.rules.approval import rulebook as find_rulebook

__all__ = ["POSITION_WORDS", "ReportInfo", "ReportParty", "position_words", "write_results_report"]


@dataclass(frozen=True)
class ReportParty:
    party: str  # "DE" or a liaison
    name: str  # "DIN" or organisation name
    is_p_member: bool
    may_vote: bool
    position: str | None  # None = did not vote
    reasons_given: bool
    participate: bool | None
    experts: tuple[str, ...]


@dataclass(frozen=True)
class ReportInfo:
    ballot_id: int
    ballot_type: str  # "DIS"
    rulebook: str  # "iso"
    document: str  # "ISO/DIS 11367"
    project_reference: str
    project_title: str
    committee: str  # "ISO/TC 312"
    opened_at: str | None
    closes_at: str
    closed_at: str | None


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

_COUNT_LABELS: dict[str, str] = {
    "p_members": "P-members (snapshot at opening)",
    "p_voted": "P-members voting",
    "p_approve": "P-members approving",
    "p_disapprove": "P-members disapproving (counted)",
    "p_abstain": "P-members abstaining",
    "all_voted": "Member bodies voting (P, O and others)",
    "all_approve": "Approvals, all member bodies",
    "all_disapprove": "Disapprovals counted, all member bodies",
    "all_abstain": "Abstentions, all member bodies",
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


def _excludes_reasonless(info: ReportInfo) -> bool:
    """Whether this ballot's rulebook leaves disapprovals without reasons out of the count."""
    try:
        types = find_rulebook(info.rulebook).exclude_disapproval_without_reasons
        return info.ballot_type.upper() in {str(t.value).upper() for t in types}
    except ValueError:
        return info.ballot_type.upper() in {"DIS", "FDIS"}


def _reasons_text(party: ReportParty, excludes: bool) -> str:
    if party.position == "disapprove":
        if party.reasons_given:
            return "Yes"
        return NOT_COUNTED if excludes else "No"
    return "Yes" if party.reasons_given else "—"


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
        run = cell.paragraphs[0].add_run(_t(value))
        if bold:
            run.bold = True


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
        style.font.name = "Arial"
        style.font.color.rgb = RGBColor(0, 0, 0)
    styles["Title"].font.size = Pt(18)
    styles["Heading 1"].font.size = Pt(13)


def _facts(doc: Any, info: ReportInfo) -> None:
    project = info.project_reference
    if info.project_title:
        project = f"{project} — {info.project_title}" if project else info.project_title
    facts = (
        ("Ballot", f"No. {info.ballot_id}"),
        ("Ballot type", info.ballot_type),
        ("Rulebook", info.rulebook.upper()),
        ("Document", info.document),
        ("Project", project),
        ("Committee", info.committee),
        ("Opened", info.opened_at or "not opened"),
        ("Closes", info.closes_at),
        ("Closed", info.closed_at or "not closed"),
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
        headings = ["Member body", "Organisation", "P/O", "Position", "Technical reasons", "Participation", "Experts"]
        widths: list[float] = [20, 26, 10, 28, 28, 22, 36]
    else:
        headings = ["Member body", "Organisation", "P/O", "Position", "Technical reasons"]
        widths = [24, 44, 12, 40, 50]
    table = _table(doc, headings, widths)
    for p in parties:
        status = "P" if p.is_p_member else ("O" if p.may_vote else "—")
        values = [p.party, p.name, status, position_words(p.position, may_vote=p.may_vote), _reasons_text(p, excludes)]
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


def _criteria(doc: Any, criteria: Sequence[Mapping[str, Any]]) -> None:
    doc.add_heading("Criteria", level=1)
    widths = (55, 95, _TEXT_WIDTH_MM - 150)
    table = _table(doc, ["Criterion", "Arithmetic", "Result"], widths)
    for c in criteria:
        _add_row(
            table,
            [str(c.get("name", "")), str(c.get("arithmetic", "")), "Passed" if c.get("passed") else "Failed"],
            widths,
        )


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
    _criteria(doc, result.get("criteria") or [])

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
