"""Who may read which events (issue #15 §4): GET /events, the live stream and webhooks alike.

An administrator reads everything; a secretary or convenor the events of their committees and
their subgroups; a delegate or commenter the events of the ballots their body takes part in — the
ballot's lifecycle, and their own body's votes and comments — but another body's vote or comments
only once the ballot has closed (SPEC §3.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# What happens to a ballot as a whole, which every participant may follow.
LIFECYCLE = frozenset(
    {
        "ballot.created",
        "ballot.opened",
        "ballot.extended",
        "ballot.closed",
        "ballot.reopened",
        "ballot.cancelled",
        "ballot.decided",
        "ballot.reminder_due",
        "document.generated",
    }
)
# What one body said: its vote, its comments, the secretariat's answers to them.
BODY_CONTENT_PREFIXES = ("vote.", "comments.", "comment.")


@dataclass(frozen=True)
class Reader:
    admin: bool = False
    # Committees the reader is an officer of, their subgroups included.
    offices: frozenset[int] = frozenset()
    bodies: frozenset[str] = frozenset()


@dataclass(frozen=True)
class BallotFacts:
    participants: frozenset[str]
    closed: bool


def body_of(event_type: str, on_behalf_of: str | None, payload: Mapping[str, Any]) -> str | None:
    body = payload.get("body")
    if isinstance(body, str) and body:
        return body
    return on_behalf_of


def may_see(
    reader: Reader,
    *,
    event_type: str,
    committee_id: int | None,
    body: str | None,
    ballot: BallotFacts | None,
) -> bool:
    if reader.admin:
        return True
    if committee_id is not None and committee_id in reader.offices:
        return True
    if ballot is None or not (reader.bodies & ballot.participants):
        return False
    if event_type in LIFECYCLE:
        return True
    if event_type.startswith(BODY_CONTENT_PREFIXES):
        return ballot.closed or (body is not None and body in reader.bodies)
    return False


def offices_with_subgroups(held: Iterable[int], parents: Mapping[int, int | None]) -> frozenset[int]:
    """The committees `held` and every committee below them."""
    held = set(held)
    found = set()
    for committee in parents:
        seen: set[int] = set()
        current: int | None = committee
        while current is not None and current not in seen:
            if current in held:
                found.add(committee)
                break
            seen.add(current)
            current = parents.get(current)
    return frozenset(found | held)
