"""Which P-members the participation rule names as candidates for O-membership (SPEC §3.5).

Pure: the ledger's rows in, the candidates with their reasons out. The thresholds are data
(*configurable*): a committee with another reading of the Directives passes its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.enums import BallotType


@dataclass(frozen=True)
class ParticipationRule:
    # Missing one of these is enough.
    must_vote: frozenset[BallotType] = frozenset({BallotType.DIS, BallotType.FDIS, BallotType.SR})
    # Missing more than numerator/denominator of the committee's internal ballots in the window.
    share_numerator: int = 1
    share_denominator: int = 5
    window: timedelta = timedelta(days=365)


DEFAULT_RULE = ParticipationRule()


@dataclass(frozen=True)
class LedgerEntry:
    """One closed ballot as one P-member took part in it (P-member when it opened)."""

    ballot_id: int
    ballot_type: BallotType
    closed_at: datetime
    body: str
    voted: bool
    # Closed before its deadline: a P-member that had not voted yet still had time, so the ballot
    # does not count against it (issue #13).
    closed_early: bool = False

    @property
    def counted(self) -> bool:
        return self.voted or not self.closed_early


@dataclass(frozen=True)
class Candidate:
    body: str
    reasons: tuple[str, ...]
    missed: tuple[int, ...] = ()  # the ballots counted as missed, in the window


def candidates(
    entries: Iterable[LedgerEntry],
    current_p_members: Iterable[str],
    now: datetime,
    internal: frozenset[BallotType],
    rule: ParticipationRule = DEFAULT_RULE,
) -> list[Candidate]:
    """Current P-members that missed a must-vote ballot, or too many internal ones in the window."""
    by_body: dict[str, list[LedgerEntry]] = {}
    for e in entries:
        by_body.setdefault(e.body, []).append(e)
    found: list[Candidate] = []
    for body in sorted(set(current_p_members)):
        rows = [e for e in by_body.get(body, []) if e.counted and now - e.closed_at <= rule.window]
        must = [e for e in rows if not e.voted and e.ballot_type in rule.must_vote]
        reasons = [
            f"did not vote on the {e.ballot_type.value} ballot {e.ballot_id} (closed {e.closed_at:%Y-%m-%d})"
            for e in must
        ]
        recent = [e for e in rows if e.ballot_type in internal]
        missed = sum(1 for e in recent if not e.voted)
        # Integers only: missed / total > n / d  ⇔  missed · d > total · n.
        if recent and missed * rule.share_denominator > len(recent) * rule.share_numerator:
            reasons.append(
                f"missed {missed} of {len(recent)} internal ballots in the last "
                f"{rule.window.days} days ({missed} × {rule.share_denominator} = {missed * rule.share_denominator} > "
                f"{len(recent)} × {rule.share_numerator} = {len(recent) * rule.share_numerator})"
            )
        if reasons:
            ids = sorted({e.ballot_id for e in must} | {e.ballot_id for e in recent if not e.voted})
            found.append(Candidate(body, tuple(reasons), tuple(ids)))
    return found
