"""Who sees which votes: the latest vote of each body the reader may read (SPEC §3.4)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.tables import Vote
from services.rules.actors import Principal
from services.rules.visibility import readable_bodies
from services.usecases import ballots, committees
from services.usecases.lookups import latest_votes


async def list_votes(session: AsyncSession, principal: Principal, ballot_id: int) -> list[Vote]:
    ballot = await ballots.get_ballot(session, ballot_id)
    chain = await committees.chain(session, ballot.committee_id)
    readable = readable_bodies(principal, ballot, chain, await ballots.eligibility(session, ballot_id))
    return await latest_votes(session, [ballot_id], readable)
