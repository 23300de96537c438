"""Where an open ballot stands (SPEC §3.3, issue #17 §1): what closing now would decide, whether
the P-members that have not voted can still change it, and what it needs.

Every answer is `approval.tally` — the close's own rule, with its integer arithmetic — asked about
the votes as cast plus votes that have not been cast yet. Both criteria of every ballot type only
improve with one more approval (with the commitment to participate, at NP) and only worsen with
one more disapproval, so "all the rest approve" and "all the rest disapprove" are the extremes,
and the smallest number of votes that turns the outcome is found by counting up.

The projection assumes the votes already cast stay as they are and only P-members that have not
voted still vote (O-members may vote on some ballots, and anyone may change a vote until close):
"can still pass" means "can pass on the votes still to come".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schemas.enums import BallotType, Position
from services.rules import approval
from services.rules.ballot_types import spec


@dataclass(frozen=True)
class Projection:
    approved_if_closed_now: bool
    criteria: tuple[approval.Criterion, ...]
    not_voted: tuple[str, ...]
    can_still_pass: bool
    can_still_fail: bool
    needs: str

    def to_dict(self) -> dict[str, object]:
        return {
            "approved_if_closed_now": self.approved_if_closed_now,
            "criteria": [{"name": c.name, "met": c.passed, "arithmetic": c.arithmetic} for c in self.criteria],
            "not_voted": list(self.not_voted),
            "can_still_pass": self.can_still_pass,
            "can_still_fail": self.can_still_fail,
            "needs": self.needs,
        }


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _sides(ballot_type: BallotType) -> tuple[Position, Position, tuple[str, str], tuple[str, str]]:
    """The vote that helps, the vote that hurts, and their names (one, many) in `needs`."""
    if spec(ballot_type).rule == "sr":
        return (
            Position.CONFIRM,
            Position.REVISE,
            ("confirmation", "confirmations"),
            ("vote to revise or withdraw", "votes to revise or withdraw"),
        )
    return Position.APPROVE, Position.DISAPPROVE, ("approval", "approvals"), ("disapproval", "disapprovals")


def _smallest(limit: int, turns: object) -> int | None:
    assert callable(turns)
    for n in range(1, limit + 1):
        if turns(n):
            return n
    return None


def project(
    ballot_type: BallotType,
    rulebook: approval.Rulebook,
    p_members: Iterable[str],
    votes: Sequence[approval.CastVote],
) -> Projection:
    ballot_type = BallotType(ballot_type)
    members = sorted(set(p_members))
    now = approval.tally(ballot_type, rulebook, members, votes)
    pending = list(now.not_voted)
    if spec(ballot_type).rule == "none":
        nothing = "A comment-only consultation takes no vote."
        return Projection(False, now.criteria, tuple(pending), False, False, nothing)

    helps, hurts, help_word, hurt_word = _sides(ballot_type)
    np = spec(ballot_type).np_participation

    def with_pending(position: Position, n: int) -> approval.BallotResult:
        # Reasons are given and participation committed: the strongest form of each vote.
        extra = [approval.CastVote(b, position, True, reasons=True, participate=True if np else None) for b in pending]
        return approval.tally(ballot_type, rulebook, members, [*votes, *extra[:n]])

    k = len(pending)
    can_pass = now.approved or with_pending(helps, k).approved
    can_fail = not now.approved or not with_pending(hurts, k).approved
    who = _plural(k, "P-member that has not voted", "P-members that have not voted")
    whatever = "the P-member that has not voted does" if k == 1 else "the P-members that have not voted do"

    if now.approved:
        if not can_fail:
            needs = f"Approved if closed now, whatever {whatever}." if k else "Approved if closed now."
        else:
            d = _smallest(k, lambda n: not with_pending(hurts, n).approved)
            assert d is not None
            needs = f"Approved if closed now; {_plural(d, *hurt_word)} from the {who} would turn it."
        return Projection(True, now.criteria, tuple(pending), can_pass, can_fail, needs)

    ways: list[str] = []
    if can_pass:
        a = _smallest(k, lambda n: with_pending(helps, n).approved)
        assert a is not None
        what = _plural(a, *help_word) + (" committing to participate" if np else "")
        ways.append(f"{what} from the {who}")
    fewer = _fewer_needed(ballot_type, rulebook, members, votes, hurts)
    if fewer is not None:
        ways.append(f"{fewer} fewer {hurt_word[fewer != 1]} among the votes cast")
    if not ways:
        needs = "Not approved if closed now, and no change of the votes to come or cast would approve it."
    elif can_pass:
        needs = "Not approved if closed now; it needs " + ", or ".join(ways) + "."
    else:
        needs = f"Cannot pass on the votes still to come; it would need {ways[0]}."
    return Projection(False, now.criteria, tuple(pending), can_pass, can_fail, needs)


def _fewer_needed(
    ballot_type: BallotType,
    rulebook: approval.Rulebook,
    members: list[str],
    votes: Sequence[approval.CastVote],
    hurts: Position,
) -> int | None:
    """How many of the counted votes against, turned into abstentions, would approve the ballot."""
    exclude = ballot_type in rulebook.exclude_disapproval_without_reasons
    uncounted = {i for i, v in enumerate(votes) if v.position == Position.DISAPPROVE and exclude and not v.reasons}
    against = [i for i, v in enumerate(votes) if v.position in (hurts, Position.WITHDRAW) and i not in uncounted]
    against.sort(key=lambda i: not votes[i].is_p_member)  # P-members first: they count in every criterion

    def turned(n: int) -> bool:
        changed = set(against[:n])
        trial = [approval.CastVote(v.body, Position.ABSTAIN, v.is_p_member, v.reasons) if i in changed else v
                 for i, v in enumerate(votes)]  # fmt: skip
        return approval.tally(ballot_type, rulebook, members, trial).approved

    return _smallest(len(against), turned)


def decisive(
    ballot_type: BallotType,
    rulebook: approval.Rulebook,
    p_members: Iterable[str],
    votes: Sequence[approval.CastVote],
) -> frozenset[str]:
    """The P-members that have not voted whose vote alone decides what closing then would give:
    approved if they approve, not approved if they disapprove (no one else voting meanwhile)."""
    ballot_type = BallotType(ballot_type)
    if spec(ballot_type).rule == "none":
        return frozenset()
    members = sorted(set(p_members))
    helps, hurts, _, _ = _sides(ballot_type)
    np = spec(ballot_type).np_participation
    pending = approval.tally(ballot_type, rulebook, members, votes).not_voted
    # Bodies are interchangeable in the rule, so one trial per side answers for all of them.
    if not pending:
        return frozenset()
    probe = pending[0]

    def closes_approved(position: Position) -> bool:
        extra = approval.CastVote(probe, position, True, reasons=True, participate=True if np else None)
        return approval.tally(ballot_type, rulebook, members, [*votes, extra]).approved

    return frozenset(pending) if closes_approved(helps) and not closes_approved(hurts) else frozenset()
