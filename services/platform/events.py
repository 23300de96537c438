"""Append events to the log inside the caller's transaction, with their outbox entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.events import Payload
from schemas.routing import consumers_of
from schemas.tables import Ballot, Delivery, Event, Project
from services.platform import outbox, requestid
from services.platform.db import RECORD_KEY
from services.rules import authenticity
from services.rules.actors import Principal

# Built once (the column set comes from the parameters): every write of the service runs this.
_EVENT: Table = Event.__table__  # type: ignore[attr-defined]
_INSERT_EVENT = insert(_EVENT).returning(_EVENT.c.id)


def row(
    payload: Payload,
    *,
    key: bytes,
    aggregate: str,
    actor: Principal,
    now: datetime,
    committee_id: int | None = None,
    on_behalf_of: str | None = None,
) -> dict[str, Any]:
    """The event table's values for `payload`, authenticated with `key` (for `record` and for
    writes that insert it themselves)."""
    values: dict[str, Any] = {
        "occurred_at": now,
        "type": payload.type,
        "aggregate": aggregate,
        "committee_id": committee_id,
        "actor": actor.label,
        "on_behalf_of": on_behalf_of,
        "payload": msgspec.to_builtins(payload),
        "version": payload.version,
        "request_id": requestid.current.get(),
    }
    values["authenticator"] = authenticity.authenticate(key, values)
    return values


def key_of(session: AsyncSession) -> bytes:
    key = session.info.get(RECORD_KEY)
    if not isinstance(key, bytes):
        raise RuntimeError("events are written in a Database.transaction() session, which carries the record key")
    return key


async def record(
    session: AsyncSession,
    payload: Payload,
    *,
    aggregate: str,
    actor: Principal,
    now: datetime,
    committee_id: int | None = None,
    on_behalf_of: str | None = None,
) -> int:
    """Append the event (and a delivery per consumer); returns its id. A Core insert: this runs
    on every write, and an ORM object would cost a flush and an identity-map entry for nothing."""
    values = row(
        payload,
        key=key_of(session),
        aggregate=aggregate,
        actor=actor,
        now=now,
        committee_id=committee_id,
        on_behalf_of=on_behalf_of,
    )
    event_id: int = (await session.execute(_INSERT_EVENT, values)).scalar_one()
    assert event_id is not None
    consumers = consumers_of(payload.type)
    if consumers:
        await session.execute(
            insert(Delivery), [{"event_id": event_id, "consumer": c, "created_at": now} for c in consumers]
        )
        await outbox.written(session)
    return event_id


async def on_ballot(
    session: AsyncSession,
    ballot: Ballot,
    payload: Payload,
    *,
    actor: Principal,
    now: datetime,
    on_behalf_of: str | None = None,
) -> int:
    """Append an event to the ballot's stream (scoped to its committee)."""
    return await record(
        session,
        payload,
        aggregate=f"ballot:{ballot.id}",
        actor=actor,
        now=now,
        committee_id=ballot.committee_id,
        on_behalf_of=on_behalf_of,
    )


async def on_project(
    session: AsyncSession, project: Project, payload: Payload, *, actor: Principal, now: datetime
) -> int:
    """Append an event to the project's stream (scoped to its committee)."""
    return await record(
        session, payload, aggregate=f"project:{project.id}", actor=actor, now=now, committee_id=project.committee_id
    )


async def on_user(session: AsyncSession, user_id: int, payload: Payload, *, actor: Principal, now: datetime) -> int:
    """Append an event to a user's stream (the directory's, no committee)."""
    return await record(session, payload, aggregate=f"user:{user_id}", actor=actor, now=now)


async def page(
    session: AsyncSession,
    *,
    after: int = 0,
    limit: int = 100,
    types: Sequence[str] = (),
    aggregate: str | None = None,
    committee_ids: Sequence[int] | None = None,
) -> list[Event]:
    """A cursor page of the log, oldest first. `committee_ids=None` means no scoping (admin)."""
    query: Any = select(Event).where(col(Event.id) > after)
    if types:
        query = query.where(col(Event.type).in_(list(types)))
    if aggregate:
        query = query.where(Event.aggregate == aggregate)
    if committee_ids is not None:
        query = query.where(col(Event.committee_id).in_(list(committee_ids)))
    query = query.order_by(col(Event.id)).limit(limit)
    return list((await session.execute(query)).scalars())
