"""Approval criteria (SPEC §3.3): who counts, what is compared, and the arithmetic shown.

Only integers are used: every threshold is a cross-multiplication, so exact two-thirds and
exact one-quarter are decided exactly (a float 0.6667 would reject 10 of 15).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

from schemas.enums import BallotType, Position, RulebookName
from services.rules.ballot_types import spec

_APPROVALS = frozenset({Position.APPROVE, Position.APPROVE_WITH_COMMENTS})


@dataclass(frozen=True, kw_only=True)
class Rulebook:
    # kw_only lets the fields read in their natural order although the last one has no default.
    name: RulebookName
    np_majority: Literal["two_thirds", "simple"]
    np_participants_small: int = 4
    np_participants_large: int = 5
    np_small_committee_max: int = 16
    exclude_disapproval_without_reasons: frozenset[BallotType] = frozenset({BallotType.DIS, BallotType.FDIS})
    fdis_comments_with_approval: bool


RULEBOOKS: Mapping[RulebookName, Rulebook] = MappingProxyType(
    {
        # Recent ISO editions require two-thirds for an NP (iso-rules §2.3).
        RulebookName.ISO: Rulebook(
            name=RulebookName.ISO,
            np_majority="two_thirds",
            fdis_comments_with_approval=True,
        ),
        # IEC: simple majority at NP, and an FDIS approval carries no comments.
        RulebookName.IEC: Rulebook(
            name=RulebookName.IEC,
            np_majority="simple",
            fdis_comments_with_approval=False,
        ),
    }
)


def rulebook(name: RulebookName | str) -> Rulebook:
    try:
        return RULEBOOKS[RulebookName(str(name).strip().lower())]
    except (KeyError, ValueError):
        known = ", ".join(r.value for r in RULEBOOKS)
        raise ValueError(f"Unknown rulebook {name!r}; known rulebooks: {known}") from None


@dataclass(frozen=True)
class CastVote:
    body: str
    position: Position
    is_p_member: bool
    reasons: bool
    participate: bool | None = None


@dataclass(frozen=True)
class Criterion:
    name: str  # the criterion's id in stored results ("P-members two-thirds")
    passed: bool
    arithmetic: str
    # For people: what is required, and the votes as a share ("6 of 7 P-members voting approve:
    # 85.7 % (≥ 66.7 % needed)"). Not stored: `explain` derives both from a stored result.
    label: str = ""
    share: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "arithmetic": self.arithmetic}


# "Voting" as the ISO/IEC Directives count it: approvals and disapprovals; abstentions (and, at
# DIS/FDIS, disapprovals without technical reasons) are not votes cast.
_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "P-members two-thirds": "Two-thirds of the P-members voting approve",
        "P-members simple majority": "A simple majority of the P-members voting approve",
        "P-members confirm (simple majority)": "A simple majority of the P-members voting confirm",
        "disapprovals at most one quarter": "At most one quarter of all member bodies voting disapprove",
        "participation": "Enough approving P-members commit to participate",
        "comment-only consultation: no vote": "No vote (comment-only consultation)",
    }
)


_NOTHING = "no approvals or disapprovals: 0 + 0 = 0, nothing to count"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %"


def _share(part: int, whole: int, who: str, verb: str, requirement: str) -> str:
    if whole == 0:
        return f"no {who} voting: nothing to count"
    return f"{part} of {whole} {who} voting {verb}: {_percent(part, whole)} ({requirement})"


COUNT_KEYS: tuple[str, ...] = (
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
)


@dataclass(frozen=True)
class BallotResult:
    ballot_type: BallotType
    rulebook: RulebookName
    approved: bool
    counts: Mapping[str, int]
    criteria: tuple[Criterion, ...]
    arithmetic: str
    not_voted: tuple[str, ...]
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "ballot_type": str(self.ballot_type.value),
            "rulebook": str(self.rulebook.value),
            "approved": self.approved,
            "counts": {k: int(v) for k, v in self.counts.items()},
            "criteria": [c.to_dict() for c in self.criteria],
            "arithmetic": self.arithmetic,
            "not_voted": list(self.not_voted),
            "flags": list(self.flags),
        }


def _two_thirds(name: str, approve: int, disapprove: int) -> Criterion:
    voting = approve + disapprove
    if voting == 0:
        return Criterion(name, False, _NOTHING, share=_share(0, 0, "P-members", "", ""))
    passed = 3 * approve >= 2 * voting
    op = "≥" if passed else "<"
    return Criterion(
        name,
        passed,
        f"3 × {approve} = {3 * approve} {op} 2 × ({approve} + {disapprove}) = {2 * voting}",
        share=_share(approve, voting, "P-members", "approve", "≥ 66.7 % needed"),
    )


def _simple_majority(name: str, yes: int, no: int) -> Criterion:
    voting = yes + no
    if voting == 0:
        return Criterion(name, False, _NOTHING, share=_share(0, 0, "P-members", "", ""))
    passed = 2 * yes > voting
    # A tie is not a majority, so the failing sign is "≤", not "<".
    op = ">" if passed else "≤"
    verb = "confirm" if "confirm" in name else "approve"
    return Criterion(
        name,
        passed,
        f"2 × {yes} = {2 * yes} {op} {yes} + {no} = {voting}",
        share=_share(yes, voting, "P-members", verb, "> 50.0 % needed"),
    )


def _one_quarter(approve: int, disapprove: int) -> Criterion:
    name = "disapprovals at most one quarter"
    total = approve + disapprove
    if total == 0:
        return Criterion(name, False, _NOTHING, share=_share(0, 0, "member bodies", "", ""))
    passed = 4 * disapprove <= total
    op = "≤" if passed else ">"
    return Criterion(
        name,
        passed,
        f"4 × {disapprove} = {4 * disapprove} {op} {approve} + {disapprove} = {total}",
        share=_share(disapprove, total, "member bodies", "disapprove", "≤ 25.0 % allowed"),
    )


def _participation(rb: Rulebook, committed: int, committee_size: int) -> Criterion:
    if committee_size <= rb.np_small_committee_max:
        needed = rb.np_participants_small
        size = f"{committee_size} P-members ≤ {rb.np_small_committee_max}"
    else:
        needed = rb.np_participants_large
        size = f"{committee_size} P-members > {rb.np_small_committee_max}"
    passed = committed >= needed
    op = "≥" if passed else "<"
    return Criterion(
        "participation",
        passed,
        f"{committed} approving P-members committed to participate {op} {needed} required (committee of {size})",
        share=f"{committed} approving P-members committed to participate ({needed} needed)",
    )


def _check_votes(ballot_type: BallotType, p_members: frozenset[str], votes: list[CastVote]) -> None:
    s = spec(ballot_type)
    seen: set[str] = set()
    for v in votes:
        if v.body in seen:
            raise ValueError(f"Body {v.body} appears twice in the votes of one ballot")
        seen.add(v.body)
        # Approval with comments is an approval wherever approval is possible.
        allowed = Position(v.position) in s.positions or (
            v.position == Position.APPROVE_WITH_COMMENTS and Position.APPROVE in s.positions
        )
        if not allowed:
            if not s.positions:
                raise ValueError(f"{s.label} is comment-only: {v.body} cannot cast a vote")
            raise ValueError(
                f"Position {Position(v.position).value} is not valid on a {s.label} ballot (vote of {v.body})"
            )
        # Both facts come from the same snapshot; a disagreement means the caller mixed
        # snapshots, and a result computed from either would be wrong.
        if v.is_p_member != (v.body in p_members):
            status = "a P-member" if v.is_p_member else "not a P-member"
            raise ValueError(f"Vote of {v.body} says it is {status}, which contradicts the P-member snapshot")


def _judge(rule: str, rulebook: Rulebook, counts: Mapping[str, int]) -> tuple[list[Criterion], list[str]]:
    """The criteria of a ballot type's rule, from the counts alone, and the flags they raise."""
    p_approve, p_disapprove = counts["p_approve"], counts["p_disapprove"]
    all_approve, all_disapprove = counts["all_approve"], counts["all_disapprove"]
    confirm, revise, withdraw = counts["confirm"], counts["revise"], counts["withdraw"]
    flags: list[str] = []
    criteria: list[Criterion]
    if rule == "none":
        flags.append("comment-only")
        criteria = [
            Criterion(
                "comment-only consultation: no vote",
                False,
                "comment-only consultation: no vote is taken, so nothing is counted",
                share="no vote is taken",
            )
        ]
    elif rule == "dis":
        criteria = [
            _two_thirds("P-members two-thirds", p_approve, p_disapprove),
            _one_quarter(all_approve, all_disapprove),
        ]
        if all_approve + all_disapprove == 0:
            flags.append("no valid votes")
        elif p_approve + p_disapprove == 0:
            flags.append("no valid P-member votes")
    elif rule == "np":
        if rulebook.np_majority == "two_thirds":
            majority = _two_thirds("P-members two-thirds", p_approve, p_disapprove)
        else:
            majority = _simple_majority("P-members simple majority", p_approve, p_disapprove)
        criteria = [majority, _participation(rulebook, counts["p_participating"], counts["p_members"])]
        if p_approve + p_disapprove == 0:
            flags.append("no valid votes")
    elif rule == "two_thirds":
        criteria = [_two_thirds("P-members two-thirds", p_approve, p_disapprove)]
        if p_approve + p_disapprove == 0:
            flags.append("no valid votes")
    elif rule == "simple_majority":
        criteria = [_simple_majority("P-members simple majority", p_approve, p_disapprove)]
        if p_approve + p_disapprove == 0:
            flags.append("no valid votes")
    else:  # "sr"
        criteria = [_simple_majority("P-members confirm (simple majority)", confirm, revise + withdraw)]
        if confirm + revise + withdraw == 0:
            flags.append("no valid votes")
    return [replace(c, label=_LABELS.get(c.name, c.name)) for c in criteria], flags


def explain(result: Mapping[str, object]) -> tuple[Criterion, ...]:
    """The criteria of a stored result (``BallotResult.to_dict()``) with their labels and shares,
    derived from its counts by the rules that closed the ballot; ValueError if it is not one."""
    try:
        ballot_type = BallotType(str(result["ballot_type"]))
        book = rulebook(str(result["rulebook"]))
        stored = result["counts"]
        if not isinstance(stored, Mapping):
            raise TypeError("counts")
        counts = {key: int(stored.get(key, 0)) for key in COUNT_KEYS}
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a ballot result: {exc}") from None
    return tuple(_judge(spec(ballot_type).rule, book, counts)[0])


def tally(
    ballot_type: BallotType,
    rulebook: Rulebook,
    p_members: Iterable[str],
    votes: Iterable[CastVote],
) -> BallotResult:
    ballot_type = BallotType(ballot_type)
    s = spec(ballot_type)
    snapshot = frozenset(p_members)
    vote_list = list(votes)
    _check_votes(ballot_type, snapshot, vote_list)

    exclude_reasonless = ballot_type in rulebook.exclude_disapproval_without_reasons
    excluded = sorted(
        v.body for v in vote_list if v.position == Position.DISAPPROVE and not v.reasons and exclude_reasonless
    )
    excluded_set = frozenset(excluded)
    counted = [v for v in vote_list if v.body not in excluded_set]
    p_votes = [v for v in vote_list if v.is_p_member]
    p_counted = [v for v in counted if v.is_p_member]

    def n(pool: list[CastVote], *positions: Position) -> int:
        return sum(1 for v in pool if v.position in positions)

    p_approve = n(p_counted, *_APPROVALS)
    p_disapprove = n(p_counted, Position.DISAPPROVE)
    all_approve = n(counted, *_APPROVALS)
    all_disapprove = n(counted, Position.DISAPPROVE)
    confirm = n(p_votes, Position.CONFIRM)
    revise = n(p_votes, Position.REVISE)
    withdraw = n(p_votes, Position.WITHDRAW)
    p_participating = (
        sum(1 for v in p_counted if v.position in _APPROVALS and v.participate is True) if s.np_participation else 0
    )

    # p_disapprove and all_disapprove are the disapprovals that count; the excluded ones are
    # reported apart so the report can show both without the reader re-deriving anything.
    counts: dict[str, int] = {
        "p_members": len(snapshot),
        "p_voted": len(p_votes),
        "p_approve": p_approve,
        "p_disapprove": p_disapprove,
        "p_abstain": n(p_votes, Position.ABSTAIN),
        "all_voted": len(vote_list),
        "all_approve": all_approve,
        "all_disapprove": all_disapprove,
        "all_abstain": n(vote_list, Position.ABSTAIN),
        "disapprove_without_reasons": len(excluded),
        "p_participating": p_participating,
        "confirm": confirm,
        "revise": revise,
        "withdraw": withdraw,
    }

    criteria, flags = _judge(s.rule, rulebook, counts)
    if excluded:
        flags.append(f"disapprovals without technical reasons not counted: {', '.join(excluded)}")

    approved = s.rule != "none" and all(c.passed for c in criteria)
    voted_bodies = {v.body for v in vote_list}
    not_voted = tuple(sorted(snapshot - voted_bodies))

    lines = [f"{c.name}: {c.arithmetic} — {'passed' if c.passed else 'failed'}" for c in criteria]
    lines.extend(f"note: {f}" for f in flags if f != "comment-only")
    if s.rule == "none":
        lines.append("Outcome: no vote (comment-only consultation)")
    else:
        lines.append(f"Outcome: {'approved' if approved else 'not approved'}")

    return BallotResult(
        ballot_type=ballot_type,
        rulebook=rulebook.name,
        approved=approved,
        counts=MappingProxyType(counts),
        criteria=tuple(criteria),
        arithmetic="\n".join(lines),
        not_voted=not_voted,
        flags=tuple(flags),
    )
