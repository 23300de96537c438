from __future__ import annotations

import json

import pytest

from schemas.enums import BallotType, Position, RulebookName
from services.rules.approval import (
    RULEBOOKS,
    BallotResult,
    CastVote,
    Rulebook,
    explain,
    rulebook,
    tally,
)

ISO = rulebook(RulebookName.ISO)
IEC = rulebook(RulebookName.IEC)

A = Position.APPROVE
AC = Position.APPROVE_WITH_COMMENTS
D = Position.DISAPPROVE
X = Position.ABSTAIN


def p_codes(n: int) -> list[str]:
    return [f"P{i:02d}" for i in range(n)]


def p_votes(*positions: Position, start: int = 0, reasons: bool = True) -> list[CastVote]:
    return [CastVote(f"P{start + i:02d}", pos, is_p_member=True, reasons=reasons) for i, pos in enumerate(positions)]


def o_votes(*positions: Position, start: int = 0, reasons: bool = True) -> list[CastVote]:
    return [CastVote(f"O{start + i:02d}", pos, is_p_member=False, reasons=reasons) for i, pos in enumerate(positions)]


def criterion(result: BallotResult, name: str) -> bool:
    matches = [c for c in result.criteria if c.name == name]
    assert len(matches) == 1, [c.name for c in result.criteria]
    return matches[0].passed


# --- rulebooks -------------------------------------------------------------------------------


def test_iso_rulebook_uses_two_thirds_for_np_and_allows_fdis_comments() -> None:
    assert ISO.np_majority == "two_thirds"
    assert ISO.fdis_comments_with_approval is True
    assert ISO.np_participants_small == 4
    assert ISO.np_participants_large == 5
    assert ISO.np_small_committee_max == 16
    assert ISO.exclude_disapproval_without_reasons == frozenset({BallotType.DIS, BallotType.FDIS})


def test_iec_rulebook_uses_simple_majority_for_np_and_no_fdis_comments() -> None:
    assert IEC.np_majority == "simple"
    assert IEC.fdis_comments_with_approval is False


def test_rulebook_lookup_accepts_names_in_any_case() -> None:
    assert rulebook("iso") is RULEBOOKS[RulebookName.ISO]
    assert rulebook(" IEC ") is RULEBOOKS[RulebookName.IEC]


def test_unknown_rulebook_raises_a_readable_error() -> None:
    with pytest.raises(ValueError, match="cen"):
        rulebook("cen")


# --- DIS / FDIS criterion A ------------------------------------------------------------------


def test_dis_passes_at_exactly_two_thirds_of_p_members() -> None:
    # 6 yes, 3 no: 18 >= 18. Criterion B needs help from O-members (3 of 9 P is one third).
    votes = p_votes(A, A, A, A, A, A, D, D, D) + o_votes(A, A, A)
    result = tally(BallotType.DIS, ISO, p_codes(9), votes)
    assert criterion(result, "P-members two-thirds")
    assert "3 × 6 = 18 ≥ 2 × (6 + 3) = 18" in result.arithmetic
    # B: 9 approvals, 3 disapprovals: 12 <= 12.
    assert criterion(result, "disapprovals at most one quarter")
    assert result.approved


def test_dis_fails_just_under_two_thirds_of_p_members() -> None:
    # 5 yes, 3 no: 15 < 16.
    votes = p_votes(A, A, A, A, A, D, D, D) + o_votes(*([A] * 20))
    result = tally(BallotType.DIS, ISO, p_codes(8), votes)
    assert not criterion(result, "P-members two-thirds")
    assert criterion(result, "disapprovals at most one quarter")
    assert not result.approved
    assert "3 × 5 = 15 < 2 × (5 + 3) = 16" in result.arithmetic


def test_ten_of_fifteen_is_exactly_two_thirds_and_passes_without_float_error() -> None:
    votes = p_votes(*([A] * 10), *([D] * 5)) + o_votes(*([A] * 5))
    result = tally(BallotType.DIS, ISO, p_codes(15), votes)
    assert criterion(result, "P-members two-thirds")
    # 15 approvals, 5 disapprovals: exactly one quarter.
    assert result.approved


def test_abstentions_are_never_in_a_denominator_so_four_yes_of_twenty_p_members_pass() -> None:
    votes = p_votes(A, A, A, A, *([X] * 16))
    result = tally(BallotType.DIS, ISO, p_codes(20), votes)
    assert result.approved
    assert result.counts["p_abstain"] == 16
    assert result.counts["p_voted"] == 20
    assert "3 × 4 = 12 ≥ 2 × (4 + 0) = 8" in result.arithmetic


# --- DIS / FDIS criterion B ------------------------------------------------------------------


def test_dis_passes_with_exactly_one_quarter_disapprovals() -> None:
    # P: 9 yes, 1 no; O: 2 no.
    votes = p_votes(*([A] * 9), D) + o_votes(D, D)
    result = tally(BallotType.DIS, ISO, p_codes(10), votes)
    # 9 approvals, 3 disapprovals: 12 <= 12.
    assert criterion(result, "disapprovals at most one quarter")
    assert "4 × 3 = 12 ≤ 9 + 3 = 12" in result.arithmetic
    assert result.approved


def test_dis_fails_with_just_over_one_quarter_disapprovals() -> None:
    votes = p_votes(*([A] * 8), D) + o_votes(D, D)
    result = tally(BallotType.DIS, ISO, p_codes(9), votes)
    # 8 approvals, 3 disapprovals: 12 > 11.
    assert criterion(result, "P-members two-thirds")
    assert not criterion(result, "disapprovals at most one quarter")
    assert "4 × 3 = 12 > 8 + 3 = 11" in result.arithmetic
    assert not result.approved


def test_o_member_disapprovals_sink_a_dis_that_every_p_member_approves() -> None:
    votes = p_votes(A, A, A) + o_votes(D, D)
    result = tally(BallotType.DIS, ISO, p_codes(3), votes)
    assert criterion(result, "P-members two-thirds")
    assert not criterion(result, "disapprovals at most one quarter")
    assert not result.approved
    assert result.counts["all_disapprove"] == 2
    assert result.counts["p_disapprove"] == 0


def test_o_member_approvals_rescue_criterion_b_when_p_members_barely_agree() -> None:
    p_only = p_votes(A, A, D)
    alone = tally(BallotType.DIS, ISO, p_codes(3), p_only)
    assert criterion(alone, "P-members two-thirds")
    assert not criterion(alone, "disapprovals at most one quarter")  # 4 > 3
    rescued = tally(BallotType.DIS, ISO, p_codes(3), p_only + o_votes(A, A))
    assert criterion(rescued, "disapprovals at most one quarter")  # 4 <= 5
    assert rescued.approved


def test_o_member_votes_never_count_towards_the_p_member_two_thirds() -> None:
    votes = p_votes(A, D, D) + o_votes(*([A] * 30))
    result = tally(BallotType.DIS, ISO, p_codes(3), votes)
    assert not criterion(result, "P-members two-thirds")
    assert result.counts["p_approve"] == 1
    assert result.counts["all_approve"] == 31
    assert not result.approved


def test_fdis_uses_the_same_two_criteria_as_dis() -> None:
    result = tally(BallotType.FDIS, ISO, p_codes(3), p_votes(A, A, A) + o_votes(D, D))
    assert [c.name for c in result.criteria] == [
        "P-members two-thirds",
        "disapprovals at most one quarter",
    ]
    assert not result.approved


# --- disapprovals without technical reasons --------------------------------------------------


def test_disapproval_without_reasons_is_excluded_at_dis_and_reported() -> None:
    votes = [
        CastVote("DE", A, is_p_member=True, reasons=False),
        CastVote("JP", A, is_p_member=True, reasons=False),
        CastVote("GB", D, is_p_member=True, reasons=False),
        CastVote("FR", D, is_p_member=False, reasons=False),
        CastVote("US", D, is_p_member=True, reasons=True),
    ]
    result = tally(BallotType.DIS, ISO, ["DE", "JP", "GB", "US"], votes)
    # Counted: P 2 yes / 1 no -> 6 >= 6; all 2 yes / 1 no -> 4 > 3 fails.
    assert result.counts["disapprove_without_reasons"] == 2
    assert result.counts["p_disapprove"] == 1
    assert result.counts["all_disapprove"] == 1
    assert "disapprovals without technical reasons not counted: FR, GB" in result.flags
    assert "FR, GB" in result.arithmetic
    assert result.counts["p_voted"] == 4  # an excluded vote is still a vote cast


def test_disapproval_without_reasons_can_turn_a_dis_result_around() -> None:
    with_reasons = p_votes(A, A, D, reasons=True)
    without = p_votes(A, A, D, reasons=False)
    extra = o_votes(*([A] * 5))
    assert not tally(BallotType.DIS, ISO, p_codes(3), with_reasons).approved
    assert tally(BallotType.DIS, ISO, p_codes(3), without + extra).approved
    assert tally(BallotType.FDIS, ISO, p_codes(3), without).approved


def test_disapproval_without_reasons_is_counted_at_cd() -> None:
    result = tally(BallotType.CD, ISO, p_codes(3), p_votes(A, D, D, reasons=False))
    assert result.counts["p_disapprove"] == 2
    assert result.counts["disapprove_without_reasons"] == 0
    assert not result.approved
    assert not any("without technical reasons" in f for f in result.flags)


def test_a_rulebook_may_extend_the_exclusion_to_other_ballot_types() -> None:
    strict = Rulebook(
        name=RulebookName.ISO,
        np_majority="two_thirds",
        fdis_comments_with_approval=True,
        exclude_disapproval_without_reasons=frozenset({BallotType.CD}),
    )
    result = tally(BallotType.CD, strict, p_codes(3), p_votes(A, D, D, reasons=False))
    assert result.approved
    assert result.counts["disapprove_without_reasons"] == 2


# --- no valid votes --------------------------------------------------------------------------


def test_abstentions_only_are_not_approved_and_flagged_no_valid_votes() -> None:
    result = tally(BallotType.DIS, ISO, p_codes(3), p_votes(X, X, X) + o_votes(X))
    assert not result.approved
    assert "no valid votes" in result.flags
    assert result.counts["all_abstain"] == 4
    assert result.not_voted == ()


def test_no_votes_at_all_is_not_approved_and_lists_every_p_member_as_not_voted() -> None:
    for ballot_type in (
        BallotType.DIS,
        BallotType.NP,
        BallotType.CD,
        BallotType.CIB,
        BallotType.SR,
        BallotType.DTR,
    ):
        result = tally(ballot_type, ISO, ["JP", "DE", "IN"], [])
        assert not result.approved, ballot_type
        assert "no valid votes" in result.flags, ballot_type
        assert result.not_voted == ("DE", "IN", "JP")


def test_dis_with_only_o_member_votes_is_flagged_no_valid_p_member_votes() -> None:
    result = tally(BallotType.DIS, ISO, p_codes(2), p_votes(X, X) + o_votes(A))
    assert not result.approved
    assert "no valid P-member votes" in result.flags
    assert "no valid votes" not in result.flags


def test_only_excluded_disapprovals_leave_no_valid_votes() -> None:
    result = tally(BallotType.DIS, ISO, p_codes(2), p_votes(D, D, reasons=False))
    assert not result.approved
    assert "no valid votes" in result.flags


# --- NP --------------------------------------------------------------------------------------


def np_votes(*spec: tuple[Position, bool | None]) -> list[CastVote]:
    return [
        CastVote(f"P{i:02d}", pos, is_p_member=True, reasons=True, participate=part)
        for i, (pos, part) in enumerate(spec)
    ]


def test_np_tie_fails_under_iec_simple_majority() -> None:
    votes = np_votes(*([(A, True)] * 5), *([(D, False)] * 5))
    result = tally(BallotType.NP, IEC, p_codes(10), votes)
    assert not criterion(result, "P-members simple majority")
    assert criterion(result, "participation")
    assert not result.approved
    assert "2 × 5 = 10 ≤ 5 + 5 = 10" in result.arithmetic


def test_np_with_six_of_ten_passes_iec_simple_majority_but_fails_iso_two_thirds() -> None:
    votes = np_votes(*([(A, True)] * 6), *([(D, False)] * 4))
    iec = tally(BallotType.NP, IEC, p_codes(10), votes)
    iso = tally(BallotType.NP, ISO, p_codes(10), votes)
    assert iec.approved
    assert not iso.approved
    assert "3 × 6 = 18 < 2 × (6 + 4) = 20" in iso.arithmetic
    assert iec.rulebook is RulebookName.IEC
    assert iso.rulebook is RulebookName.ISO


def test_np_needs_four_participants_with_exactly_sixteen_p_members() -> None:
    votes = np_votes(*([(A, True)] * 4), *([(A, False)] * 4))
    result = tally(BallotType.NP, ISO, p_codes(16), votes)
    assert result.counts["p_participating"] == 4
    assert criterion(result, "participation")
    assert result.approved
    assert "4 approving P-members committed to participate ≥ 4 required" in result.arithmetic


def test_np_needs_five_participants_with_seventeen_p_members() -> None:
    votes = np_votes(*([(A, True)] * 4), *([(A, False)] * 4))
    result = tally(BallotType.NP, ISO, p_codes(17), votes)
    assert not criterion(result, "participation")
    assert not result.approved
    assert "4 approving P-members committed to participate < 5 required" in result.arithmetic
    assert "17 P-members > 16" in result.arithmetic


def test_np_participation_counts_only_approving_p_members() -> None:
    votes = np_votes((A, True), (AC, True), (A, True), (D, True), (X, True), (A, None))
    votes += [CastVote("O01", A, is_p_member=False, reasons=True, participate=True)]
    result = tally(BallotType.NP, ISO, p_codes(6), votes)
    assert result.counts["p_participating"] == 3
    assert not criterion(result, "participation")


def test_participation_is_zero_outside_np() -> None:
    votes = np_votes((A, True), (A, True), (A, True), (A, True))
    result = tally(BallotType.CIB, ISO, p_codes(4), votes)
    assert result.counts["p_participating"] == 0
    assert [c.name for c in result.criteria] == ["P-members simple majority"]


# --- other ballot types ----------------------------------------------------------------------


def test_cd_ballot_uses_two_thirds_of_p_members() -> None:
    assert tally(BallotType.CD, ISO, p_codes(3), p_votes(A, A, D)).approved
    assert not tally(BallotType.CD, ISO, p_codes(5), p_votes(A, A, A, D, D)).approved


def test_dts_uses_two_thirds_and_o_members_do_not_count() -> None:
    result = tally(BallotType.DTS, ISO, p_codes(3), p_votes(A, A, D) + o_votes(D, D, D))
    assert result.approved
    assert [c.name for c in result.criteria] == ["P-members two-thirds"]


@pytest.mark.parametrize(
    "ballot_type",
    [BallotType.DTR, BallotType.DPAS, BallotType.CIB, BallotType.WITHDRAWAL],
)
def test_simple_majority_types_pass_with_more_yes_than_no_and_fail_on_a_tie(
    ballot_type: BallotType,
) -> None:
    assert tally(ballot_type, ISO, p_codes(5), p_votes(A, A, A, D, D)).approved
    tie = tally(ballot_type, ISO, p_codes(4), p_votes(A, A, D, D))
    assert not tie.approved
    assert "2 × 2 = 4 ≤ 2 + 2 = 4" in tie.arithmetic


def test_approve_with_comments_counts_as_approval() -> None:
    result = tally(BallotType.CD, ISO, p_codes(3), p_votes(AC, AC, D))
    assert result.counts["p_approve"] == 2
    assert result.counts["all_approve"] == 2
    assert result.approved
    dis = tally(BallotType.DIS, ISO, p_codes(3), p_votes(AC, AC, AC))
    assert dis.approved


def test_sr_confirms_on_a_simple_majority_of_p_members_voting() -> None:
    votes = p_votes(
        Position.CONFIRM,
        Position.CONFIRM,
        Position.CONFIRM,
        Position.REVISE,
        Position.WITHDRAW,
        X,
        X,
    ) + o_votes(Position.REVISE, Position.REVISE, Position.REVISE, Position.REVISE)
    result = tally(BallotType.SR, ISO, p_codes(7), votes)
    assert result.approved
    assert (result.counts["confirm"], result.counts["revise"], result.counts["withdraw"]) == (
        3,
        1,
        1,
    )
    assert "2 × 3 = 6 > 3 + 2 = 5" in result.arithmetic


def test_sr_without_a_confirm_majority_is_not_confirmed() -> None:
    votes = p_votes(Position.CONFIRM, Position.CONFIRM, Position.REVISE, Position.WITHDRAW)
    result = tally(BallotType.SR, ISO, p_codes(4), votes)
    assert not result.approved


def test_comment_only_ballot_has_no_vote_and_one_explaining_criterion() -> None:
    for ballot_type in (BallotType.WD, BallotType.CD_CONSULTATION):
        result = tally(ballot_type, ISO, p_codes(3), [])
        assert not result.approved
        assert result.flags == ("comment-only",)
        assert [c.name for c in result.criteria] == ["comment-only consultation: no vote"]


def test_a_vote_on_a_comment_only_ballot_is_rejected() -> None:
    with pytest.raises(ValueError, match="comment-only"):
        tally(BallotType.CD_CONSULTATION, ISO, p_codes(1), p_votes(A))


def test_a_position_foreign_to_the_ballot_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="confirm"):
        tally(BallotType.DIS, ISO, p_codes(1), p_votes(Position.CONFIRM))
    with pytest.raises(ValueError, match="approve"):
        tally(BallotType.SR, ISO, p_codes(1), p_votes(A))


# --- shape and bookkeeping -------------------------------------------------------------------


def test_duplicate_body_raises() -> None:
    votes = [
        CastVote("DE", A, is_p_member=True, reasons=True),
        CastVote("DE", D, is_p_member=True, reasons=True),
    ]
    with pytest.raises(ValueError, match="DE"):
        tally(BallotType.DIS, ISO, ["DE"], votes)


def test_a_vote_contradicting_the_p_member_snapshot_raises() -> None:
    with pytest.raises(ValueError, match="FR"):
        tally(BallotType.DIS, ISO, ["DE"], [CastVote("FR", A, is_p_member=True, reasons=True)])
    with pytest.raises(ValueError, match="DE"):
        tally(BallotType.DIS, ISO, ["DE"], [CastVote("DE", A, is_p_member=False, reasons=True)])


def test_not_voted_lists_silent_p_members_sorted_and_ignores_o_members() -> None:
    votes = [
        CastVote("JP", A, is_p_member=True, reasons=True),
        CastVote("US", A, is_p_member=False, reasons=True),
        CastVote("IN", X, is_p_member=True, reasons=True),
    ]
    result = tally(BallotType.DIS, ISO, ["KR", "JP", "CN", "IN", "DE"], votes)
    assert result.not_voted == ("CN", "DE", "KR")
    assert result.counts["p_members"] == 5
    assert result.counts["p_voted"] == 2
    assert result.counts["all_voted"] == 3


def test_counts_have_the_same_keys_for_every_ballot_type() -> None:
    expected = {
        "p_members",
        "p_voted",
        "p_approve",
        "p_disapprove",
        "p_abstain",
        "all_voted",
        "all_approve",
        "all_disapprove",
        "all_abstain",
        "disapprove_without_reasons",
        "p_participating",
        "confirm",
        "revise",
        "withdraw",
    }
    for ballot_type in BallotType:
        result = tally(ballot_type, ISO, p_codes(2), [])
        assert set(result.counts) == expected, ballot_type
        assert all(isinstance(v, int) for v in result.counts.values())


def test_arithmetic_shows_each_criterion_and_the_outcome() -> None:
    result = tally(BallotType.DIS, ISO, p_codes(3), p_votes(A, A, D) + o_votes(A, A))
    lines = result.arithmetic.splitlines()
    assert lines[0] == "P-members two-thirds: 3 × 2 = 6 ≥ 2 × (2 + 1) = 6 — passed"
    assert lines[1] == "disapprovals at most one quarter: 4 × 1 = 4 ≤ 4 + 1 = 5 — passed"
    assert lines[-1] == "Outcome: approved"
    for c in result.criteria:
        assert c.arithmetic in result.arithmetic


def test_to_dict_is_json_serialisable_and_round_trips_the_result() -> None:
    votes = p_votes(A, D, reasons=False) + o_votes(A)
    result = tally(BallotType.DIS, ISO, p_codes(3), votes)
    data = result.to_dict()
    decoded = json.loads(json.dumps(data))
    assert decoded["ballot_type"] == "DIS"
    assert decoded["rulebook"] == "iso"
    assert decoded["approved"] is True
    assert decoded["counts"]["disapprove_without_reasons"] == 1
    assert decoded["not_voted"] == ["P02"]
    assert decoded["criteria"][0] == {
        "name": "P-members two-thirds",
        "passed": True,
        "arithmetic": "3 × 1 = 3 ≥ 2 × (1 + 0) = 2",
    }
    assert decoded["flags"] == list(result.flags)
    assert type(data["counts"]) is dict


def test_tally_accepts_generators_for_members_and_votes() -> None:
    result = tally(
        BallotType.CD,
        ISO,
        (c for c in p_codes(3)),
        (v for v in p_votes(A, A, A)),
    )
    assert result.approved
    assert result.counts["p_voted"] == 3


@pytest.mark.parametrize(
    ("ballot_type", "book", "votes", "shares"),
    [
        (
            BallotType.DIS,
            ISO,
            p_votes(A, A, A, A, A, A, D, X) + o_votes(D, X),
            [
                "6 of 7 P-members voting approve: 85.7 % (≥ 66.7 % needed)",
                "2 of 8 member bodies voting disapprove: 25.0 % (≤ 25.0 % allowed)",
            ],
        ),
        (BallotType.CD, ISO, p_votes(A, D, X), ["1 of 2 P-members voting approve: 50.0 % (≥ 66.7 % needed)"]),
        (
            BallotType.NP,
            IEC,
            p_votes(A, A, D),
            [
                "2 of 3 P-members voting approve: 66.7 % (> 50.0 % needed)",
                "0 approving P-members committed to participate (4 needed)",
            ],
        ),
        (
            BallotType.SR,
            ISO,
            p_votes(Position.CONFIRM, Position.REVISE, Position.CONFIRM),
            ["2 of 3 P-members voting confirm: 66.7 % (> 50.0 % needed)"],
        ),
        (BallotType.CD, ISO, p_votes(X, X), ["no P-members voting: nothing to count"]),
    ],
)
def test_each_criterion_states_its_votes_as_a_share_of_those_voting(
    ballot_type: BallotType, book: Rulebook, votes: list[CastVote], shares: list[str]
) -> None:
    p_members = [v.body for v in votes if v.is_p_member]
    result = tally(ballot_type, book, p_members, votes)
    assert [c.share for c in result.criteria] == shares
    assert all(c.label and c.label != c.name for c in result.criteria)
    # From a stored result, the same criteria: the report reads them off the counts with the
    # very code that closed the ballot.
    stored = json.loads(json.dumps(result.to_dict()))
    assert set(stored["criteria"][0]) == {"name", "passed", "arithmetic"}
    assert explain(stored) == result.criteria


def test_explain_refuses_what_is_not_a_ballot_result() -> None:
    for broken in (
        {},
        {"ballot_type": "DIS", "rulebook": "iso", "counts": 3},
        {"ballot_type": "X", "rulebook": "iso", "counts": {}},
    ):
        with pytest.raises(ValueError):
            explain(broken)
