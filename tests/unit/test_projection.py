"""The projection of an open ballot (issue #17 §1): worked examples, and agreement with the close."""

from __future__ import annotations

import random

import pytest

from schemas.enums import BallotType, Position, RulebookName
from services.rules import approval
from services.rules.ballot_types import spec
from services.rules.projection import decisive, project

ISO = approval.rulebook(RulebookName.ISO)
IEC = approval.rulebook(RulebookName.IEC)
NINE = [f"P{i}" for i in range(1, 10)]


def vote(body: str, position: str, *, reasons: bool = True, participate: bool | None = None) -> approval.CastVote:
    return approval.CastVote(body, Position(position), body in NINE, reasons, participate)


def test_dis_approved_now_and_one_disapproval_would_turn_it() -> None:
    votes = [vote(b, "approve") for b in NINE[:5]] + [vote("P6", "disapprove")]
    p = project(BallotType.DIS, ISO, NINE, votes)
    assert (p.approved_if_closed_now, p.can_still_pass, p.can_still_fail) == (True, True, True)
    assert p.not_voted == ("P7", "P8", "P9")
    assert p.needs == "Approved if closed now; 1 disapproval from the 3 P-members that have not voted would turn it."
    assert [c["met"] for c in p.to_dict()["criteria"]] == [True, True]  # type: ignore[index, union-attr]


def test_dis_not_approved_names_both_ways_with_the_rulebooks_arithmetic() -> None:
    votes = [vote("P1", "approve"), vote("P2", "approve"), vote("P3", "disapprove"), vote("P4", "disapprove")]
    p = project(BallotType.DIS, ISO, NINE, votes)
    # Two more approvals meet two-thirds (12 ≥ 12) but not the quarter (8 > 6); four meet both.
    assert p.needs == (
        "Not approved if closed now; it needs 4 approvals from the 5 P-members that have not voted, "
        "or 2 fewer disapprovals among the votes cast."
    )
    assert (p.approved_if_closed_now, p.can_still_pass, p.can_still_fail) == (False, True, True)
    assert p.criteria[0].arithmetic == "3 × 2 = 6 < 2 × (2 + 2) = 8"


def test_cannot_pass_any_more() -> None:
    votes = [vote(b, "disapprove") for b in NINE[:4]] + [vote(b, "approve") for b in NINE[4:8]]
    p = project(BallotType.DIS, ISO, NINE, votes)
    assert (p.can_still_pass, p.can_still_fail) == (False, True)
    assert p.needs == "Cannot pass on the votes still to come; it would need 3 fewer disapprovals among the votes cast."


def test_cannot_fail_any_more() -> None:
    p = project(BallotType.DIS, ISO, NINE, [vote(b, "approve") for b in NINE[:8]])
    assert (p.approved_if_closed_now, p.can_still_pass, p.can_still_fail) == (True, True, False)
    assert p.needs == "Approved if closed now, whatever the P-member that has not voted does."


def test_np_needs_a_commitment_to_participate_not_only_an_approval() -> None:
    votes = [vote(b, "approve", participate=True) for b in NINE[:3]]
    votes += [vote("P4", "approve", participate=False), vote("P5", "disapprove")]
    p = project(BallotType.NP, ISO, NINE, votes)
    assert not p.approved_if_closed_now
    assert p.criteria[1].name == "participation" and not p.criteria[1].passed
    # Fewer disapprovals would not help: participation is what is missing.
    assert p.needs == (
        "Not approved if closed now; it needs 1 approval committing to participate from the 4 P-members that have "
        "not voted."
    )


def test_iec_np_tie_is_not_a_majority() -> None:
    votes = [vote(b, "approve", participate=True) for b in NINE[:4]] + [vote(b, "disapprove") for b in NINE[4:8]]
    iso, iec = project(BallotType.NP, ISO, NINE, votes), project(BallotType.NP, IEC, NINE, votes)
    assert not iso.approved_if_closed_now and not iec.approved_if_closed_now
    assert iec.criteria[0].arithmetic == "2 × 4 = 8 ≤ 4 + 4 = 8"
    assert iec.needs.endswith("it needs 1 approval committing to participate from the 1 P-member that has not voted, "
                              "or 1 fewer disapproval among the votes cast.")  # fmt: skip


def test_systematic_review_speaks_of_confirmations() -> None:
    votes = [vote("P1", "confirm"), vote("P2", "revise"), vote("P3", "withdraw")]
    p = project(BallotType.SR, ISO, NINE, votes)
    assert p.needs == (
        "Not approved if closed now; it needs 2 confirmations from the 6 P-members that have not voted, "
        "or 2 fewer votes to revise or withdraw among the votes cast."
    )


def test_fdis_disapproval_without_reasons_does_not_count_and_is_not_offered_as_fewer() -> None:
    votes = [vote("P1", "approve"), vote("P2", "disapprove", reasons=False), vote("P3", "disapprove")]
    p = project(BallotType.FDIS, ISO, NINE, votes)
    # P2's disapproval is not counted, so only P3's can be "fewer".
    assert "1 fewer disapproval" in p.needs


def test_a_comment_only_consultation_projects_nothing() -> None:
    p = project(BallotType.CD_CONSULTATION, ISO, NINE, [])
    assert (p.approved_if_closed_now, p.can_still_pass, p.can_still_fail) == (False, False, False)
    assert p.needs == "A comment-only consultation takes no vote."


VOTING_TYPES = [t for t in BallotType if spec(t).rule != "none"]


def random_vote(rng: random.Random, ballot_type: BallotType, members: list[str], body: str) -> approval.CastVote:
    participate = rng.choice([True, False]) if spec(ballot_type).np_participation else None
    position = rng.choice(spec(ballot_type).positions)
    return approval.CastVote(body, position, body in members, rng.random() < 0.8, participate)


@pytest.mark.parametrize("seed", range(40))
def test_the_close_agrees_with_the_projection_before_it(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        ballot_type = rng.choice(VOTING_TYPES)
        rules = rng.choice([ISO, IEC])
        members = [f"P{i}" for i in range(rng.randint(1, 12))]
        outsiders = [f"O{i}" for i in range(rng.randint(0, 3))]
        voters = [b for b in members + outsiders if rng.random() < 0.5]
        votes = [random_vote(rng, ballot_type, members, b) for b in voters]
        p = project(ballot_type, rules, members, votes)
        now = approval.tally(ballot_type, rules, members, votes)
        assert p.approved_if_closed_now == now.approved
        for _ in range(10):
            # However the P-members that had not voted vote (or do not), the close stays within the projection.
            later = votes + [random_vote(rng, ballot_type, members, b) for b in p.not_voted if rng.random() < 0.7]
            closed = approval.tally(ballot_type, rules, members, later)
            assert not closed.approved or p.can_still_pass, (ballot_type, votes, later)
            assert closed.approved or p.can_still_fail, (ballot_type, votes, later)


def test_the_vote_that_alone_decides() -> None:
    four = NINE[:4]
    votes = [vote("P1", "approve"), vote("P2", "approve"), vote("P3", "disapprove")]
    # P4 approving: 9 ≥ 8 and 4 ≤ 4, approved; P4 disapproving: 6 < 8, not approved.
    assert decisive(BallotType.DIS, ISO, four, votes) == {"P4"}
    three = [vote(b, "approve") for b in four[:3]]
    assert decisive(BallotType.DIS, ISO, four, three) == set()  # approved whatever P4 does
    assert decisive(BallotType.DIS, ISO, four, [vote("P1", "disapprove"), vote("P2", "disapprove")]) == set()
    assert decisive(BallotType.CD_CONSULTATION, ISO, four, []) == set()
