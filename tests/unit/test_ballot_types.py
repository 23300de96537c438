from __future__ import annotations

import pytest

from schemas.enums import BallotType, Position
from services.rules.ballot_types import (
    BALLOT_TYPES,
    length_warning,
    position_allowed,
    spec,
)

APPROVE_DISAPPROVE = (Position.APPROVE, Position.DISAPPROVE, Position.ABSTAIN)


def test_every_ballot_type_has_a_spec() -> None:
    assert set(BALLOT_TYPES) == set(BallotType)
    for ballot_type, s in BALLOT_TYPES.items():
        assert s.type is ballot_type
        assert s.min_weeks <= s.default_weeks <= s.max_weeks
        assert s.label


@pytest.mark.parametrize(
    ("ballot_type", "weeks", "voters", "rule"),
    [
        (BallotType.NP, 12, "committee_p", "np"),
        (BallotType.WD, 8, "none", "none"),
        (BallotType.CD_CONSULTATION, 8, "none", "none"),
        (BallotType.CD, 8, "committee_p", "two_thirds"),
        (BallotType.DIS, 12, "all_members", "dis"),
        (BallotType.FDIS, 8, "all_members", "dis"),
        (BallotType.DTS, 8, "committee_p", "two_thirds"),
        (BallotType.DTR, 8, "committee_p", "simple_majority"),
        (BallotType.DPAS, 8, "committee_p", "simple_majority"),
        (BallotType.SR, 20, "all_members", "sr"),
        (BallotType.WITHDRAWAL, 12, "all_members", "simple_majority"),
        (BallotType.CIB, 8, "committee_p", "simple_majority"),
    ],
)
def test_ballot_type_defaults_match_the_spec(ballot_type: BallotType, weeks: int, voters: str, rule: str) -> None:
    s = spec(ballot_type)
    assert s.default_weeks == weeks
    assert s.voters == voters
    assert s.rule == rule


def test_cd_consultation_runs_eight_to_sixteen_weeks() -> None:
    s = spec(BallotType.CD_CONSULTATION)
    assert (s.min_weeks, s.max_weeks) == (8, 16)


def test_only_np_carries_participation() -> None:
    assert [t for t, s in BALLOT_TYPES.items() if s.np_participation] == [BallotType.NP]


def test_comment_only_ballots_have_no_positions_and_take_comments_from_p_o_and_liaisons() -> None:
    for ballot_type in (BallotType.WD, BallotType.CD_CONSULTATION):
        s = spec(ballot_type)
        assert s.positions == ()
        assert s.comments_from == frozenset({"p", "o", "liaisons"})
        assert not position_allowed(ballot_type, Position.APPROVE)
        assert not position_allowed(ballot_type, Position.ABSTAIN)


def test_np_comments_come_from_o_members_and_liaisons() -> None:
    assert {"o", "liaisons"} <= spec(BallotType.NP).comments_from


def test_abstain_is_allowed_on_every_voting_ballot() -> None:
    for ballot_type, s in BALLOT_TYPES.items():
        if s.rule != "none":
            assert position_allowed(ballot_type, Position.ABSTAIN), ballot_type


def test_only_the_cd_ballot_offers_approve_with_comments() -> None:
    offering = [t for t in BallotType if position_allowed(t, Position.APPROVE_WITH_COMMENTS)]
    assert offering == [BallotType.CD]
    assert spec(BallotType.CD).positions == (
        Position.APPROVE,
        Position.APPROVE_WITH_COMMENTS,
        Position.DISAPPROVE,
        Position.ABSTAIN,
    )


@pytest.mark.parametrize(
    "ballot_type",
    [
        BallotType.NP,
        BallotType.DIS,
        BallotType.FDIS,
        BallotType.DTS,
        BallotType.DTR,
        BallotType.DPAS,
        BallotType.WITHDRAWAL,
        BallotType.CIB,
    ],
)
def test_approve_disapprove_abstain_ballots(ballot_type: BallotType) -> None:
    assert spec(ballot_type).positions == APPROVE_DISAPPROVE
    assert not position_allowed(ballot_type, Position.CONFIRM)


def test_systematic_review_positions_are_confirm_revise_withdraw_abstain() -> None:
    assert spec(BallotType.SR).positions == (
        Position.CONFIRM,
        Position.REVISE,
        Position.WITHDRAW,
        Position.ABSTAIN,
    )
    assert not position_allowed(BallotType.SR, Position.APPROVE)


def test_no_warning_inside_the_usual_range_bounds_included() -> None:
    s = spec(BallotType.DIS)
    assert length_warning(BallotType.DIS, s.min_weeks) is None
    assert length_warning(BallotType.DIS, s.max_weeks) is None
    assert length_warning(BallotType.DIS, 12.0) is None


def test_a_short_dis_gets_a_readable_warning() -> None:
    warning = length_warning(BallotType.DIS, 3.0)
    assert warning is not None
    assert warning.startswith("DIS ballots usually run 12 weeks; this one runs 3.0 weeks")


def test_a_too_long_ballot_is_warned_about_too() -> None:
    max_weeks = spec(BallotType.FDIS).max_weeks
    warning = length_warning(BallotType.FDIS, max_weeks + 0.5)
    assert warning is not None
    assert f"{max_weeks + 0.5:.1f} weeks" in warning


def test_a_cib_accepts_a_wide_range_without_warning() -> None:
    assert length_warning(BallotType.CIB, 1) is None
    assert length_warning(BallotType.CIB, 52) is None
    assert length_warning(BallotType.CIB, 0.5) is not None


def test_spec_accepts_the_enum_value_string() -> None:
    assert spec(BallotType("DIS")) is BALLOT_TYPES[BallotType.DIS]


def test_unknown_ballot_type_raises_value_error() -> None:
    with pytest.raises(ValueError):
        spec("XYZ")  # type: ignore[arg-type]
