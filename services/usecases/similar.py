"""Comments of different bodies that ask for the same change (issue #17 §3), and one
observation recorded for a whole group of them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.tables import Comment
from services.rules import similarity
from services.rules.actors import Principal
from services.rules.errors import Forbidden, InvalidInput
from services.rules.visibility import readable_bodies
from services.usecases import ballots, comments, committees


def items(rows: Sequence[Comment]) -> list[similarity.Item]:
    return [similarity.Item(c.reference, c.body, c.clause, f"{c.comment}\n{c.proposed_change}") for c in rows]


async def similar_groups(session: AsyncSession, principal: Principal, ballot_id: int) -> list[similarity.Group]:
    """Only for those who read every body's comments: a delegate of an open ballot reads only
    its own, among which there is no group from different bodies. An empty answer would say
    "nobody else asks this", so the delegate is refused instead."""
    groups = await visible_groups(session, principal, ballot_id)
    if groups is None:
        raise Forbidden("Similar comments compare every body's comments, which you may not read on this ballot yet.")
    return groups


async def visible_groups(session: AsyncSession, principal: Principal, ballot_id: int) -> list[similarity.Group] | None:
    """The groups, or None when `principal` may not read every body's comments."""
    ballot = await ballots.get_ballot(session, ballot_id)
    chain = await committees.chain(session, ballot.committee_id)
    if readable_bodies(principal, ballot, chain, await ballots.eligibility(session, ballot_id)) is not None:
        return None
    rows = await comments.list_comments(session, principal, ballot_id)  # in the compiled table's order
    # Seconds of pure Python on a large ballot: off the event loop.
    return await asyncio.to_thread(similarity.group, items(rows))


async def record_group_observation(
    session: AsyncSession, principal: Principal, ballot_id: int, data: api.ObservationsPut, now: datetime
) -> list[Comment]:
    """The same observation on every comment named, each with its own record and event, all or none."""
    references = [r.strip() for r in data.references]
    if len(set(references)) != len(references):
        raise InvalidInput("A comment is named twice.", field="references")
    one = api.ObservationPut(observation=data.observation, disposition=data.disposition)
    return [await comments.record_observation(session, principal, ballot_id, ref, one, now) for ref in references]
