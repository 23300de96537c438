"""The results report (SPEC §4.2), checked against real tallies from services.rules.approval."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import docx
import pytest

from schemas.enums import BallotType, Position
from services.documents.report import ReportInfo, ReportParty, write_results_report
from services.rules.approval import CastVote, explain, rulebook, tally

ISO = rulebook("iso")
A, AC, D, X = Position.APPROVE, Position.APPROVE_WITH_COMMENTS, Position.DISAPPROVE, Position.ABSTAIN

NAMES = {"DE": "DIN", "FR": "AFNOR", "GB": "BSI", "JP": "JISC", "CN": "SAC", "IT": "UNI", "US": "ANSI", "SE": "SIS"}
P_MEMBERS = ["CN", "DE", "FR", "GB", "IT", "JP"]


def info(ballot_type: str = "DIS", document: str = "ISO/DIS 11367") -> ReportInfo:
    return ReportInfo(
        ballot_type=ballot_type,
        rulebook="iso",
        document=document,
        project_reference="ISO 11367",
        project_title="Service excellence — Principles and model for public service organizations",
        committee="ISO/TC 312",
        opened_at=datetime(2026, 9, 1, 0, 0, tzinfo=UTC),
        closes_at=datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC),
        closed_at=datetime(2026, 8, 27, 11, 12, 48, 741861, tzinfo=UTC),
    )


O_MEMBERS = {"US"}  # SE votes from outside the committee (every member body votes at DIS)


def parties_for(votes: list[CastVote], p_members: list[str], *, liaison: bool = True) -> list[ReportParty]:
    by_body = {v.body: v for v in votes}
    bodies = sorted(set(p_members) | set(by_body))
    parties = []
    for body in bodies:
        vote = by_body.get(body)
        parties.append(
            ReportParty(
                party=body,
                name=NAMES.get(body, body),
                standing="P" if body in p_members else "O" if body in O_MEMBERS else "outside",
                may_vote=True,
                position=vote.position.value if vote else None,
                reasons=f"Reasons of {body}:\nclause 3 conflicts." if vote and vote.reasons else "",
                participate=vote.participate if vote else None,
                experts=(),
            )
        )
    if liaison:
        parties.append(ReportParty("CEN/TC 465", "CEN", "liaison", False, None, "", None, ()))
    return parties


def render(report_info: ReportInfo, result: dict[str, Any], parties: list[ReportParty]) -> Any:
    buf = io.BytesIO()
    write_results_report(report_info, result, parties, buf)
    return docx.Document(io.BytesIO(buf.getvalue()))


def all_text(document: Any) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def table_with(document: Any, first_heading: str) -> list[list[str]]:
    for table in document.tables:
        rows = [[c.text for c in r.cells] for r in table.rows]
        if rows and rows[0][0] == first_heading:
            return rows
    raise AssertionError(f"no table headed {first_heading!r}")


def dis_example() -> tuple[list[CastVote], dict[str, Any]]:
    votes = [
        CastVote("DE", A, True, False),
        CastVote("FR", D, True, False),  # no technical reasons: not counted at DIS
        CastVote("GB", D, True, True),
        CastVote("JP", AC, True, True),
        CastVote("CN", A, True, False),
        CastVote("US", X, False, False),
        CastVote("SE", D, False, True),
    ]
    return votes, tally(BallotType.DIS, ISO, P_MEMBERS, votes).to_dict()


def test_the_report_shows_the_counts_and_the_arithmetic_of_a_real_tally() -> None:
    votes, result = dis_example()
    document = render(info(), result, parties_for(votes, P_MEMBERS))
    text = all_text(document)
    assert document.paragraphs[0].text == "ISO/DIS 11367 — Result of voting"
    for criterion in result["criteria"]:
        assert criterion["arithmetic"] in text
    criteria = table_with(document, "Criterion")
    assert [[row[2], row[3]] for row in criteria[1:]] == [
        [c["arithmetic"], "Passed" if c["passed"] else "Failed"] for c in result["criteria"]
    ]
    counts = dict(table_with(document, "Count")[1:])
    assert counts["P-members when the ballot opened"] == "6"
    assert counts["P-members that returned a vote (abstentions included)"] == str(result["counts"]["p_voted"]) == "5"
    assert counts["P-members approving"] == str(result["counts"]["p_approve"]) == "3"
    assert counts["P-members disapproving (counted)"] == "1"
    assert counts["Member bodies disapproving (counted)"] == str(result["counts"]["all_disapprove"]) == "2"
    assert counts["Disapprovals without technical reasons (not counted)"] == "1"
    assert "Approving P-members committed to participate" not in counts  # NP only


def test_the_outcome_is_in_bold() -> None:
    votes, result = dis_example()
    document = render(info(), result, parties_for(votes, P_MEMBERS))
    outcome = [p for p in document.paragraphs if p.text.startswith("Outcome:")]
    assert len(outcome) == 1
    assert outcome[0].text == ("Outcome: approved" if result["approved"] else "Outcome: not approved")
    assert all(run.bold for run in outcome[0].runs)


def test_a_failed_ballot_reads_not_approved() -> None:
    votes = [CastVote("DE", A, True, True), CastVote("FR", D, True, True), CastVote("GB", D, True, True)]
    result = tally(BallotType.DIS, ISO, P_MEMBERS, votes).to_dict()
    assert result["approved"] is False
    text = all_text(render(info(), result, parties_for(votes, P_MEMBERS)))
    assert "Outcome: not approved" in text
    assert "Failed" in text


def test_a_party_that_did_not_vote_shows_as_such() -> None:
    votes, result = dis_example()
    document = render(info(), result, parties_for(votes, P_MEMBERS))
    rows = {r[0]: r for r in table_with(document, "Member body")[1:]}
    assert rows["IT"][1:4] == ["UNI", "P-member", "Did not vote"]
    assert rows["CEN/TC 465"][2:4] == ["Liaison", "Not eligible to vote (comments only)"]
    assert rows["US"][2:4] == ["O-member", "Abstention"]
    assert rows["SE"][2:4] == ["Member body outside the committee", "Disapproval"]
    assert table_with(document, "Member body")[0][2] == "Standing"
    assert "O" not in [r[2] for r in rows.values()]
    assert rows["JP"][3] == "Approval with comments"
    # …and in the list of P-members that did not vote, with the body's name.
    paragraphs = [p.text for p in document.paragraphs]
    heading = paragraphs.index("P-members that did not vote")
    assert result["not_voted"] == ["IT"]
    assert paragraphs[heading + 1] == "IT (UNI)"


def test_a_disapproval_without_reasons_is_flagged_not_counted_at_dis() -> None:
    votes, result = dis_example()
    document = render(info(), result, parties_for(votes, P_MEMBERS))
    rows = {r[0]: r for r in table_with(document, "Member body")[1:]}
    assert rows["FR"][3:5] == ["Disapproval", "No — not counted at DIS/FDIS"]
    # A disapproval is read for its reasons: the text as the body gave it, line by line.
    assert rows["GB"][3:5] == ["Disapproval", "Reasons of GB:\nclause 3 conflicts."]
    assert rows["SE"][4] == "Reasons of SE:\nclause 3 conflicts."
    assert rows["DE"][4] == "—"
    # The tally's flag is listed under the notes.
    assert "disapprovals without technical reasons not counted: FR" in all_text(document)


def test_a_disapproval_without_reasons_is_counted_at_a_cd_ballot() -> None:
    votes = [CastVote("DE", A, True, True), CastVote("FR", D, True, False)]
    result = tally(BallotType.CD, ISO, P_MEMBERS, votes).to_dict()
    document = render(info("CD", "ISO/CD 11367"), result, parties_for(votes, P_MEMBERS))
    rows = {r[0]: r for r in table_with(document, "Member body")[1:]}
    assert rows["FR"][4] == "No technical reasons given"
    assert "not counted" not in all_text(document).replace("abstentions are not counted", "")


def test_an_np_report_shows_participation_and_experts() -> None:
    p_members = ["DE", "FR", "GB", "JP", "CN"]
    votes = [
        CastVote("DE", A, True, True, participate=True),
        CastVote("FR", A, True, True, participate=True),
        CastVote("GB", A, True, True, participate=False),
        CastVote("JP", D, True, True, participate=None),
    ]
    result = tally(BallotType.NP, ISO, p_members, votes).to_dict()
    parties = parties_for(votes, p_members, liaison=False)
    parties[0] = ReportParty("CN", "SAC", "P", True, None, "", None, ())
    de = next(i for i, p in enumerate(parties) if p.party == "DE")
    parties[de] = ReportParty("DE", "DIN", "P", True, "approve", "", True, ("Anna Schmidt", "Jonas Weber"))
    document = render(info("NP", "ISO/NP 11367"), result, parties)
    table = table_with(document, "Member body")
    assert table[0][5:] == ["Participation", "Experts"]
    rows = {r[0]: r for r in table[1:]}
    assert rows["DE"][5:] == ["Yes", "Anna Schmidt; Jonas Weber"]
    assert rows["GB"][5] == "No"
    assert rows["JP"][5:] == ["—", "—"]
    counts = dict(table_with(document, "Count")[1:])
    assert counts["Approving P-members committed to participate"] == "2"
    participation = next(c for c in result["criteria"] if c["name"] == "participation")
    assert participation["arithmetic"] in all_text(document)


def test_the_ballot_facts_are_listed() -> None:
    votes, result = dis_example()
    document = render(info(), result, parties_for(votes, P_MEMBERS))
    facts = {r[0]: r[1] for r in [[c.text for c in row.cells] for row in document.tables[0].rows]}
    assert facts["Ballot"] == "DIS ballot on ISO/DIS 11367"  # not the internal id
    assert "No." not in all_text(document)
    assert facts["Ballot type"] == "DIS"
    assert facts["Rulebook"] == "ISO"
    assert facts["Document"] == "ISO/DIS 11367"
    assert facts["Project"].startswith("ISO 11367 — Service excellence")
    assert facts["Committee"] == "ISO/TC 312"
    assert facts["Opened"] == "2026-09-01 00:00 UTC"
    assert facts["Closes"] == "2026-11-24 23:59 UTC"
    assert facts["Closed"] == "2026-08-27 11:12 UTC"
    assert not re.search(r"\d{4}-\d\d-\d\dT\d", all_text(document))


def test_a_comment_only_consultation_has_no_outcome_vote() -> None:
    result = tally(BallotType.CD_CONSULTATION, ISO, P_MEMBERS, []).to_dict()
    document = render(info("CD_CONSULTATION", "ISO/CD 11367"), result, parties_for([], P_MEMBERS))
    assert "Outcome: no vote (comment-only consultation)" in all_text(document)


def test_the_report_is_a4_portrait_with_page_numbers() -> None:
    votes, result = dis_example()
    buf = io.BytesIO()
    write_results_report(info(), result, parties_for(votes, P_MEMBERS), buf)
    document = docx.Document(io.BytesIO(buf.getvalue()))
    section = document.sections[0]
    assert section.page_width.mm == pytest.approx(210, abs=0.5)
    assert section.page_height.mm == pytest.approx(297, abs=0.5)
    footer_xml = section.footer._element.xml
    assert " PAGE " in footer_xml and " NUMPAGES " in footer_xml


def test_control_characters_and_markup_in_names_do_not_break_the_report() -> None:
    votes = [CastVote("DE", A, True, True)]
    result = tally(BallotType.DIS, ISO, ["DE"], votes).to_dict()
    parties = [ReportParty("DE", "D\x00I<N> & \x0bco", "P", True, "approve", "Why\x00.", None, ())]
    document = render(info(document="ISO/DIS 1 <&>"), result, parties)
    rows = table_with(document, "Member body")
    assert rows[1][1] == "DI<N> & co"
    assert document.paragraphs[0].text == "ISO/DIS 1 <&> — Result of voting"


def test_two_hundred_parties_fit_in_one_report() -> None:
    bodies = [f"B{i:03d}" for i in range(200)]
    votes = [CastVote(b, A if i % 4 else D, True, True) for i, b in enumerate(bodies)]
    result = tally(BallotType.DIS, ISO, bodies, votes).to_dict()
    document = render(info(), result, parties_for(votes, bodies, liaison=False))
    assert len(table_with(document, "Member body")) == 201


def test_each_criterion_shows_its_votes_as_a_share_from_the_rules_that_closed_the_ballot() -> None:
    votes = [CastVote(b, A, True, True) for b in ("CN", "DE", "FR", "GB", "IT", "JP")] + [CastVote("US", D, True, True)]
    bodies = ["CN", "DE", "FR", "GB", "IT", "JP", "US"]
    result = tally(BallotType.DIS, ISO, bodies, votes).to_dict()
    document = render(info(), result, parties_for(votes, bodies, liaison=False))
    criteria = table_with(document, "Criterion")
    assert criteria[0] == ["Criterion", "Votes", "Arithmetic", "Result"]
    assert criteria[1][:2] == [
        "Two-thirds of the P-members voting approve",
        "6 of 7 P-members voting approve: 85.7 % (≥ 66.7 % needed)",
    ]
    assert criteria[2][:2] == [
        "At most one quarter of all member bodies voting disapprove",
        "1 of 7 member bodies voting disapprove: 14.3 % (≤ 25.0 % allowed)",
    ]
    # The same rule code as the close: the shares' verdicts are the stored result's.
    assert [c.passed for c in explain(result)] == [c["passed"] for c in result["criteria"]]
    assert [c.arithmetic for c in explain(result)] == [c["arithmetic"] for c in result["criteria"]]


def test_a_stored_result_the_rules_cannot_read_is_shown_as_stored() -> None:
    votes, result = dis_example()
    broken = {**result, "ballot_type": "NOPE"}
    criteria = table_with(render(info(), broken, parties_for(votes, P_MEMBERS)), "Criterion")
    assert [row[0] for row in criteria[1:]] == [c["name"] for c in result["criteria"]]
    assert {row[1] for row in criteria[1:]} == {"—"}


def test_the_report_is_in_arial_throughout_title_and_headings_included() -> None:
    votes, result = dis_example()
    buf = io.BytesIO()
    write_results_report(info(), result, parties_for(votes, P_MEMBERS), buf)
    styles = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("word/styles.xml").decode()
    assert "Theme=" not in styles and 'theme="' not in styles.lower().replace("cstheme", "")
    for attributes in re.findall(r"<w:rFonts ([^>]*)/>", styles):
        named = dict(re.findall(r'w:(\w+)="([^"]*)"', attributes))
        assert named == {"ascii": "Arial", "hAnsi": "Arial", "eastAsia": "Arial", "cs": "Arial"}, attributes
    document = docx.Document(io.BytesIO(buf.getvalue()))
    for name in ("Title", "Heading 1", "Normal"):
        assert document.styles[name].font.name == "Arial"
