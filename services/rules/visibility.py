"""Who may read which votes and comments (SPEC §3.4).

While a ballot is open a body sees only its own vote and comments; the secretary and convenor see
all. After close the result and the compiled comments are visible to the committee's members.
"""

from __future__ import annotations

from schemas.enums import BallotStatus, Role
from schemas.tables import Ballot, Eligibility
from services.rules.actors import Principal, is_committee_officer


def readable_bodies(
    principal: Principal, ballot: Ballot, committee_chain: list[int], snapshot: list[Eligibility]
) -> set[str] | None:
    """The bodies whose votes and comments `principal` may read; None means every body."""
    if is_committee_officer(principal, committee_chain):
        return None
    own = principal.bodies(Role.DELEGATE, Role.COMMENTER)
    if ballot.status == BallotStatus.CLOSED.value:
        participants = {e.party for e in snapshot}
        if own & participants or principal.holds(Role.OBSERVER, committee_chain):
            return None
    return own
