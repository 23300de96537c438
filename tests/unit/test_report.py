"""The results report (SPEC §4.2), checked against real tallies from services.rules.approval."""

from __future__ import annotations

import io
from typing import Any

import docx
import pytest

from schemas.enums import BallotType, Position
from services.documents.report import ReportInfo, ReportParty, write_results_report
from services.rules.approval import CastVote, rulebook, tally

ISO = rulebook("iso")
A, AC, D, X = Position.APPROVE, Position.APPROVE_WITH_COMMENTS, Position.DISAPPROVE, Position.ABSTAIN

NAMES = {"DE": "DIN", "FR": "AFNOR", "GB": "BSI", "JP": "JISC", "CN": "SAC", "IT": "UNI", "US": "ANSI", "SE": "SIS"}
P_MEMBERS = ["CN", "DE", "FR", "GB", "IT", "JP"]


def info(ballot_type: str = "DIS", document: str = "ISO/DIS 11367") -> ReportInfo:
    return ReportInfo(
        ballot_id=42,
        ballot_type=ballot_type,
        rulebook="iso",
        document=document,
        project_reference="ISO 11367",
        project_title="Service excellence — Principles and model for public service organizations",
        committee="ISO/TC 312",
        opened_at="2026-09-01T00:00:00Z",
        closes_at="2026-11-24T23:59:59Z",
        closed_at="2026-11-25T00:00:00Z",
    )


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
                is_p_member=body in p_members,
                may_vote=True,
                position=vote.position.value if vote else None,
                reasons_given=vote.reasons if vote else False,
                participate=vote.participate if vote else None,
                experts=(),
            )
        )
    if liaison:
        parties.append(ReportParty("CEN/TC 465", "CEN", False, False, None, False, None, ()))
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
    assert criteria[1:] == [
        [c["name"], c["arithmetic"], "Passed" if c["passed"] else "Failed"] for c in result["criteria"]
    ]
    counts = dict(table_with(document, "Count")[1:])
    assert counts["P-members (snapshot at opening)"] == "6"
    assert counts["P-members voting"] == str(result["counts"]["p_voted"]) == "5"
    assert counts["P-members approving"] == str(result["counts"]["p_approve"]) == "3"
    assert counts["P-members disapproving (counted)"] == "1"
    assert counts["Disapprovals counted, all member bodies"] == str(result["counts"]["all_disapprove"]) == "2"
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
    assert rows["IT"][1:4] == ["UNI", "P", "Did not vote"]
    assert rows["CEN/TC 465"][2:4] == ["—", "Not eligible to vote (comments only)"]
    assert rows["US"][2:4] == ["O", "Abstention"]
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
    assert rows["GB"][3:5] == ["Disapproval", "Yes"]
    assert rows["DE"][4] == "—"
    # The tally's flag is listed under the notes.
    assert "disapprovals without technical reasons not counted: FR" in all_text(document)


def test_a_disapproval_without_reasons_is_counted_at_a_cd_ballot() -> None:
    votes = [CastVote("DE", A, True, True), CastVote("FR", D, True, False)]
    result = tally(BallotType.CD, ISO, P_MEMBERS, votes).to_dict()
    document = render(info("CD", "ISO/CD 11367"), result, parties_for(votes, P_MEMBERS))
    rows = {r[0]: r for r in table_with(document, "Member body")[1:]}
    assert rows["FR"][4] == "No"
    assert "not counted" not in all_text(document)


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
    parties[0] = ReportParty("CN", "SAC", True, True, None, False, None, ())
    de = next(i for i, p in enumerate(parties) if p.party == "DE")
    parties[de] = ReportParty("DE", "DIN", True, True, "approve", True, True, ("Anna Schmidt", "Jonas Weber"))
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
    assert facts["Ballot type"] == "DIS"
    assert facts["Rulebook"] == "ISO"
    assert facts["Document"] == "ISO/DIS 11367"
    assert facts["Project"].startswith("ISO 11367 — Service excellence")
    assert facts["Committee"] == "ISO/TC 312"
    assert facts["Opened"] == "2026-09-01T00:00:00Z"
    assert facts["Closes"] == "2026-11-24T23:59:59Z"
    assert facts["Closed"] == "2026-11-25T00:00:00Z"


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
    parties = [ReportParty("DE", "D\x00I<N> & \x0bco", True, True, "approve", True, None, ())]
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
