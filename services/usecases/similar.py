"""Comments of different bodies that ask for the same change (issue #17 §3), and one
observation recorded for a whole group of them."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.tables import Ballot, Comment
from services.rules import clauses, similarity
from services.rules.actors import Principal
from services.rules.errors import Forbidden, InvalidInput
from services.rules.visibility import readable_bodies
from services.usecases import ballots, comments, committees, projects


def items(rows: Sequence[Comment]) -> list[similarity.Item]:
    return [similarity.Item(c.reference, c.body, c.clause, f"{c.comment}\n{c.proposed_change}") for c in rows]


# The convenor's page asks again after every observation saved, and observations do not change
# what is similar: results are kept per process, keyed by what the engine reads, so a changed
# comment is a new key and nothing needs invalidating.
_KEPT = 16
_groups: OrderedDict[bytes, list[similarity.Group]] = OrderedDict()
_repeats: OrderedDict[bytes, dict[int, list[int]]] = OrderedDict()


def _digest(*parts: Sequence[similarity.Item]) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(len(part).to_bytes(8, "big"))
        for item in part:
            for value in (item.key, item.body, item.clause, item.text):
                data = value.encode()
                h.update(len(data).to_bytes(8, "big") + data)
    return h.digest()


T = TypeVar("T")


async def _kept(kept: OrderedDict[bytes, T], key: bytes, compute: Callable[[], T]) -> T:
    if key in kept:
        kept.move_to_end(key)
        return kept[key]
    # Seconds of pure Python on a large ballot: off the event loop.
    value = await asyncio.to_thread(compute)
    kept[key] = value
    while len(kept) > _KEPT:
        kept.popitem(last=False)
    return value


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
    rows = items(await comments.list_comments(session, principal, ballot_id))  # in the compiled table's order
    return await _kept(_groups, _digest(rows), lambda: similarity.group(rows))


async def record_group_observation(
    session: AsyncSession, principal: Principal, ballot_id: int, data: api.ObservationsPut, now: datetime
) -> list[Comment]:
    """The same observation on every comment named, each with its own record and event, all or none."""
    references = [r.strip() for r in data.references]
    if len(set(references)) != len(references):
        raise InvalidInput("A comment is named twice.", field="references")
    one = api.ObservationPut(observation=data.observation, disposition=data.disposition)
    return [await comments.record_observation(session, principal, ballot_id, ref, one, now) for ref in references]


@dataclass(frozen=True)
class Earlier:
    """What a body said at an earlier stage of the project, and the answer it got."""

    ballot_id: int
    ballot_type: str
    reference: str
    observation: str
    disposition: str | None


async def _readable_comments(session: AsyncSession, principal: Principal, ballot: Ballot) -> list[Comment]:
    chain = await committees.chain(session, ballot.committee_id)
    assert ballot.id is not None
    readable = readable_bodies(principal, ballot, chain, await ballots.eligibility(session, ballot.id))
    query = select(Comment).where(Comment.ballot_id == ballot.id, col(Comment.superseded).is_(False))
    rows = [c for c in (await session.execute(query)).scalars() if readable is None or c.body in readable]
    rows.sort(key=lambda c: clauses.comment_order_key(c.clause, c.line, c.body, c.reference))
    return rows


async def earlier_comments(
    session: AsyncSession, principal: Principal, ballot: Ballot, rows: Sequence[Comment]
) -> dict[str, list[Earlier]]:
    """For each of `rows` (comments on `ballot`), what its body said the same on the project's
    earlier ballots, as far as `principal` may read those ballots' comments."""
    bodies = {c.body for c in rows}
    before: list[tuple[Ballot, Comment]] = []
    for other in await ballots.list_ballots(session, project_id=ballot.project_id):
        assert other.id is not None and ballot.id is not None
        if other.id < ballot.id:  # ballots are numbered as they are created: CD before DIS
            before += [(other, c) for c in await _readable_comments(session, principal, other) if c.body in bodies]
    if not before or not rows:
        return {}
    now_items, before_items = items(rows), items([c for _, c in before])
    found = await _kept(_repeats, _digest(now_items, before_items), lambda: similarity.repeats(now_items, before_items))
    return {
        rows[i].reference: sorted(
            (
                Earlier(b.id or 0, b.type, c.reference, c.observation, c.disposition)
                for b, c in (before[k] for k in earlier)
            ),
            key=lambda e: (e.ballot_id, e.reference),
        )
        for i, earlier in found.items()
    }


async def project_comments(
    session: AsyncSession, principal: Principal, project_id: int
) -> list[tuple[Ballot, Comment]]:
    """Every comment on every ballot of the project that `principal` may read, ballot by ballot."""
    await projects.get_project(session, project_id)
    out: list[tuple[Ballot, Comment]] = []
    for ballot in sorted(await ballots.list_ballots(session, project_id=project_id), key=lambda b: b.id or 0):
        out += [(ballot, c) for c in await _readable_comments(session, principal, ballot)]
    return out


async def comments_with_earlier(
    session: AsyncSession,
    principal: Principal,
    ballot_id: int,
    order: str = "clause",
    body: str | None = None,
    repeated: bool = False,
) -> list[tuple[Comment, list[Earlier]]]:
    """The ballot's comments as `comments.list_comments` gives them, each with what its body said
    the same before; `repeated`: only those."""
    rows = await comments.list_comments(session, principal, ballot_id, order, body)
    earlier = await earlier_comments(session, principal, await ballots.get_ballot(session, ballot_id), rows)
    return [(c, earlier.get(c.reference, [])) for c in rows if not repeated or c.reference in earlier]
