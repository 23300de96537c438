"""A body's comments on a ballot, and the secretariat's observations on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.comments import FIELD_NAMES, CommentFields
from schemas.enums import Role
from schemas.events import CommentsReplaced, CommentsSubmitted, ObservationRecorded
from schemas.tables import Comment
from services.platform import events
from services.rules import clauses, digests
from services.rules.actors import Principal, require_body, require_committee_officer
from services.rules.errors import Forbidden, InvalidInput, NotFound
from services.rules.visibility import readable_bodies
from services.usecases import ballots, committees
from services.usecases.votes import participant, require_writable


def reference(body: str, seq: int) -> str:
    return f"{body}-{seq:03d}"


async def current_set(session: AsyncSession, ballot_id: int, body: str) -> list[Comment]:
    query = (
        select(Comment)
        .where(Comment.ballot_id == ballot_id, Comment.body == body, col(Comment.superseded).is_(False))
        .order_by(col(Comment.seq))
    )
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True, kw_only=True)
class NewComment(CommentFields):
    """A comment about to be stored, from the API, an uploaded template or a compiled table."""

    reference: str = ""  # kept as given (compiled tables); otherwise numbered BODY-001 …

    @classmethod
    def from_api(cls, c: api.CommentIn) -> NewComment:
        return cls(
            comment=c.comment.strip(),
            line=c.line.strip(),
            clause=c.clause.strip(),
            element=c.element.strip(),
            type=c.type.value if c.type else "",
            proposed_change=c.proposed_change.strip(),
        )


_COMPARED = ("reference", *FIELD_NAMES)


def same_set(body: str, stored: Sequence[Comment], new: Sequence[NewComment]) -> bool:
    """Whether storing `new` would store `stored` again, row for row (references included)."""
    if len(stored) != len(new):
        return False
    numbered = [replace(n, reference=n.reference or reference(body, seq)) for seq, n in enumerate(new, start=1)]
    return all(all(getattr(s, f) == getattr(n, f) for f in _COMPARED) for s, n in zip(stored, numbered, strict=True))


@dataclass(frozen=True)
class WrittenSet:
    version: int
    previous: int  # how many comments the set replaced
    references: list[str]
    digest: str  # services.rules.digests.comment_set: what the event records of the rows
    observations: dict[str, str]  # reference -> digest of an observation the rows came with


async def write_set(
    session: AsyncSession,
    ballot_id: int,
    body: str,
    new: Sequence[NewComment],
    actor: str,
    now: datetime,
    *,
    imported: bool = False,
) -> WrittenSet:
    """Supersede the body's current set and store `new`. `imported`: the set comes from a compiled
    table, not from the body."""
    version = (
        await session.execute(
            select(func.max(Comment.set_version)).where(Comment.ballot_id == ballot_id, Comment.body == body)
        )
    ).scalar_one()
    previous = len(await current_set(session, ballot_id, body))
    if previous:
        await session.execute(
            update(Comment)
            .where(col(Comment.ballot_id) == ballot_id, col(Comment.body) == body, col(Comment.superseded).is_(False))
            .values(superseded=True)
        )
    new_version = (version or 0) + 1
    rows = [
        {
            "ballot_id": ballot_id,
            "body": body,
            "seq": seq,
            "reference": c.reference or reference(body, seq),
            "original_reference": c.original_reference,
            "set_version": new_version,
            "superseded": False,
            "imported": imported,
            "line": c.line,
            "clause": c.clause,
            "element": c.element,
            "type": c.type,
            "type_as_written": c.type_as_written,
            "comment": c.comment,
            "proposed_change": c.proposed_change,
            "observation": c.observation,
            "disposition": c.disposition,
            "actor": actor,
            "submitted_at": now,
            "observed_at": now if (c.observation or c.disposition) else None,
        }
        for seq, c in enumerate(new, start=1)
    ]
    if rows:
        await session.execute(insert(Comment), rows)
    return WrittenSet(
        new_version,
        previous,
        [str(r["reference"]) for r in rows],
        digests.comment_set(rows),
        digests.observations(rows),
    )


async def replace_comments(
    session: AsyncSession,
    principal: Principal,
    ballot_id: int,
    body: str,
    new: Sequence[NewComment],
    now: datetime,
) -> tuple[list[Comment], bool]:
    """Replace the body's whole comment set; returns (the new set, whether it is the first)."""
    ballot = await ballots.get_ballot(session, ballot_id, lock="share")
    require_writable(ballot, now)
    require_body(principal, body, Role.DELEGATE, Role.COMMENTER)
    row = await participant(session, ballot_id, body, lock=True)
    if not row.may_comment:
        raise Forbidden(f"{body} may not comment on this ballot.")
    blank = [i for i, c in enumerate(new, start=1) if not c.comment.strip()]
    if blank:
        raise InvalidInput(f"Comment {blank[0]} has no text; every comment needs its comment text.", field="comments")
    # The same set sent again (a retried request, a template uploaded twice) changes nothing, so
    # it records nothing: no new version, no event, no new compiled table.
    stored = await current_set(session, ballot_id, body)
    if stored and same_set(body, stored, new):
        return stored, False
    written = await write_set(session, ballot_id, body, new, principal.label, now)
    first = written.version == 1
    payload: CommentsSubmitted | CommentsReplaced
    if first:
        payload = CommentsSubmitted(
            ballot_id=ballot_id,
            body=body,
            count=len(written.references),
            set_version=written.version,
            references=written.references,
            digest=written.digest,
            observations=written.observations,
        )
    else:
        payload = CommentsReplaced(
            ballot_id=ballot_id,
            body=body,
            count=len(written.references),
            previous_count=written.previous,
            set_version=written.version,
            references=written.references,
            digest=written.digest,
            observations=written.observations,
        )
    await events.on_ballot(session, ballot, payload, actor=principal, now=now, on_behalf_of=body)
    return await current_set(session, ballot_id, body), first


async def list_comments(
    session: AsyncSession, principal: Principal, ballot_id: int, order: str = "clause", body: str | None = None
) -> list[Comment]:
    ballot = await ballots.get_ballot(session, ballot_id)
    chain = await committees.chain(session, ballot.committee_id)
    readable = readable_bodies(principal, ballot, chain, await ballots.eligibility(session, ballot_id))
    query = select(Comment).where(Comment.ballot_id == ballot_id, col(Comment.superseded).is_(False))
    if body is not None:
        query = query.where(Comment.body == body)
    rows = [c for c in (await session.execute(query)).scalars() if readable is None or c.body in readable]
    if order == "member":
        rows.sort(key=lambda c: clauses.member_order_key(c.body, c.reference, c.clause, c.line))
    else:
        rows.sort(key=lambda c: clauses.comment_order_key(c.clause, c.line, c.body, c.reference))
    return rows


async def record_observation(
    session: AsyncSession, principal: Principal, ballot_id: int, ref: str, data: api.ObservationPut, now: datetime
) -> Comment:
    ballot = await ballots.get_ballot(session, ballot_id)
    require_committee_officer(principal, await committees.chain(session, ballot.committee_id))
    comment = (
        await session.execute(
            select(Comment).where(
                Comment.ballot_id == ballot_id,
                Comment.reference == ref,
                col(Comment.superseded).is_(False),
            )
        )
    ).scalar_one_or_none()
    if comment is None:
        raise NotFound(f"There is no comment {ref} on ballot {ballot_id}.")
    comment.observation = data.observation.strip()
    comment.disposition = data.disposition.value if data.disposition else None
    comment.observed_at = now
    session.add(comment)
    await events.on_ballot(
        session,
        ballot,
        ObservationRecorded(
            ballot_id=ballot_id,
            reference=ref,
            disposition=comment.disposition,
            observation_chars=len(comment.observation),
            digest=digests.observation(comment.observation, comment.disposition),
        ),
        actor=principal,
        now=now,
    )
    return comment
