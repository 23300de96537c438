"""What each ballot type is: its usual length, who votes, who comments, which positions exist.

The table is data so that the API, the form and the tally all read the same answer
(SPEC §3.2, iso-rules §2.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from schemas.enums import BallotType, Position

Voters = Literal["committee_p", "all_members", "none"]
Commenters = Literal["voters", "p", "o", "liaisons", "all_members"]
Rule = Literal["dis", "np", "two_thirds", "simple_majority", "sr", "none"]


@dataclass(frozen=True)
class BallotTypeSpec:
    type: BallotType
    default_weeks: int
    # A closing time outside [min_weeks, max_weeks] is still accepted (committees shorten and
    # extend ballots); the caller only attaches a warning to the response and the event.
    min_weeks: int
    max_weeks: int
    voters: Voters
    comments_from: frozenset[Commenters]
    positions: tuple[Position, ...]
    np_participation: bool
    rule: Rule
    # Human wording for messages; kept here so every face names a ballot type the same way.
    label: str = ""


_APPROVE_DISAPPROVE = (Position.APPROVE, Position.DISAPPROVE, Position.ABSTAIN)
_CD_POSITIONS = (
    Position.APPROVE,
    Position.APPROVE_WITH_COMMENTS,
    Position.DISAPPROVE,
    Position.ABSTAIN,
)
_SR_POSITIONS = (Position.CONFIRM, Position.REVISE, Position.WITHDRAW, Position.ABSTAIN)
_COMMITTEE_COMMENTS: frozenset[Commenters] = frozenset({"voters", "o"})
_MEMBER_COMMENTS: frozenset[Commenters] = frozenset({"voters"})
_CONSULTATION_COMMENTS: frozenset[Commenters] = frozenset({"p", "o", "liaisons"})

_SPECS = (
    BallotTypeSpec(
        type=BallotType.NP,
        default_weeks=12,
        # Committees may shorten an NP ballot to 8 weeks by decision (iso-rules §2.2).
        min_weeks=8,
        max_weeks=12,
        voters="committee_p",
        comments_from=frozenset({"voters", "o", "liaisons"}),
        positions=_APPROVE_DISAPPROVE,
        np_participation=True,
        rule="np",
        label="NP",
    ),
    BallotTypeSpec(
        type=BallotType.WD,
        default_weeks=8,
        # WD studies are set by the WG; anything from a short check to a long study is normal.
        min_weeks=2,
        max_weeks=16,
        voters="none",
        comments_from=_CONSULTATION_COMMENTS,
        positions=(),
        np_participation=False,
        rule="none",
        label="WD consultation",
    ),
    BallotTypeSpec(
        type=BallotType.CD_CONSULTATION,
        default_weeks=8,
        min_weeks=8,
        max_weeks=16,
        voters="none",
        comments_from=_CONSULTATION_COMMENTS,
        positions=(),
        np_participation=False,
        rule="none",
        label="CD consultation",
    ),
    BallotTypeSpec(
        type=BallotType.CD,
        default_weeks=8,
        min_weeks=8,
        max_weeks=16,
        voters="committee_p",
        comments_from=frozenset({"voters", "o", "liaisons"}),
        positions=_CD_POSITIONS,
        np_participation=False,
        rule="two_thirds",
        label="CD",
    ),
    BallotTypeSpec(
        type=BallotType.DIS,
        default_weeks=12,
        min_weeks=8,
        max_weeks=20,
        voters="all_members",
        comments_from=_MEMBER_COMMENTS,
        positions=_APPROVE_DISAPPROVE,
        np_participation=False,
        rule="dis",
        label="DIS",
    ),
    BallotTypeSpec(
        type=BallotType.FDIS,
        default_weeks=8,
        min_weeks=6,
        max_weeks=12,
        voters="all_members",
        comments_from=_MEMBER_COMMENTS,
        positions=_APPROVE_DISAPPROVE,
        np_participation=False,
        rule="dis",
        label="FDIS",
    ),
    BallotTypeSpec(
        type=BallotType.DTS,
        default_weeks=8,
        min_weeks=6,
        max_weeks=12,
        voters="committee_p",
        comments_from=_COMMITTEE_COMMENTS,
        positions=_APPROVE_DISAPPROVE,
        np_participation=False,
        rule="two_thirds",
        label="DTS",
    ),
    BallotTypeSpec(
        type=BallotType.DTR,
        default_weeks=8,
        min_weeks=6,
        max_weeks=12,
        voters="committee_p",
        comments_from=_COMMITTEE_COMMENTS,
        positions=_APPROVE_DISAPPROVE,
        np_participation=False,
        rule="simple_majority",
        label="DTR",
    ),
    BallotTypeSpec(
        type=BallotType.DPAS,
        default_weeks=8,
        min_weeks=6,
        max_weeks=12,
        voters="committee_p",
        comments_from=_COMMITTEE_COMMENTS,
        positions=_APPROVE_DISAPPROVE,
        np_participation=False,
        rule="simple_majority",
        label="DPAS",
    ),
    BallotTypeSpec(
        type=BallotType.SR,
        default_weeks=20,
        min_weeks=12,
        max_weeks=24,
        voters="all_members",
        comments_from=_MEMBER_COMMENTS,
        positions=_SR_POSITIONS,
        np_participation=False,
        rule="sr",
        label="Systematic review",
    ),
    BallotTypeSpec(
        type=BallotType.WITHDRAWAL,
        default_weeks=12,
        min_weeks=8,
        max_weeks=20,
        voters="all_members",
        comments_from=_MEMBER_COMMENTS,
        positions=_APPROVE_DISAPPROVE,
        np_participation=False,
        rule="simple_majority",
        label="Withdrawal",
    ),
    BallotTypeSpec(
        type=BallotType.CIB,
        default_weeks=8,
        # The secretary sets the length of a free question; only the absurd deserves a warning.
        min_weeks=1,
        max_weeks=52,
        voters="committee_p",
        comments_from=_COMMITTEE_COMMENTS,
        positions=_APPROVE_DISAPPROVE,
        np_participation=False,
        rule="simple_majority",
        label="CIB",
    ),
)

BALLOT_TYPES: Mapping[BallotType, BallotTypeSpec] = MappingProxyType({s.type: s for s in _SPECS})


def spec(ballot_type: BallotType) -> BallotTypeSpec:
    try:
        return BALLOT_TYPES[BallotType(ballot_type)]
    except (KeyError, ValueError):
        raise ValueError(f"Unknown ballot type: {ballot_type!r}") from None


def position_allowed(ballot_type: BallotType, position: Position) -> bool:
    return Position(position) in spec(ballot_type).positions


def length_warning(ballot_type: BallotType, weeks_from_open: float) -> str | None:
    s = spec(ballot_type)
    if s.min_weeks <= weeks_from_open <= s.max_weeks:
        return None
    return (
        f"{s.label} ballots usually run {s.default_weeks} weeks; "
        f"this one runs {weeks_from_open:.1f} weeks "
        f"(usual range {s.min_weeks} to {s.max_weeks} weeks)"
    )
