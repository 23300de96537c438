"""The service acts as system actors of their own kind, each authorised by its duties alone: the
deadline closes, the scheduled opening opens, and neither (nor any other) does the other's work or
a secretary's. A plain name is no longer a way past the secretary's check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from services.platform.db import Database
from services.rules.actors import COLLATION, DEADLINE, MAILER, REMINDERS, SCHEDULED_OPENING, Duty, system_actor
from services.rules.errors import Forbidden
from services.usecases import ballots
from tests.conftest import Clock
from tests.world import ADMIN, World, ok


async def test_each_system_actor_does_only_its_own_duty(
    client: AsyncTestClient,
    clock: Clock,
    db: Database,  # type: ignore[type-arg]
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    draft = await w.ballot("DIS", open=False)
    for actor in (DEADLINE, REMINDERS, COLLATION, MAILER, system_actor("anything", Duty.NOTIFY)):
        with pytest.raises(Forbidden):
            async with db.transaction() as session:
                await ballots.open_ballot(session, actor, draft, clock.now)
    async with db.transaction() as session:
        await ballots.open_ballot(session, SCHEDULED_OPENING, draft, clock.now)

    for actor in (SCHEDULED_OPENING, REMINDERS, COLLATION, MAILER):
        with pytest.raises(Forbidden):
            async with db.transaction() as session:
                await ballots.close_ballot(session, actor, draft, clock.now)
    with pytest.raises(Forbidden):  # a duty to close at the deadline is no licence to extend it
        async with db.transaction() as session:
            await ballots.extend_ballot(session, DEADLINE, draft, clock.now + timedelta(weeks=20), clock.now)
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await ballots.cancel_ballot(session, DEADLINE, draft, "no", clock.now)

    async with db.transaction() as session:
        closed = await ballots.close_ballot(session, DEADLINE, draft, clock.now)
    assert closed.status == "closed"
    log = await ok(await client.get(f"/api/v1/events?aggregate=ballot:{draft}", headers=ADMIN))
    opened, last = log["items"][1], log["items"][-1]
    assert (opened["type"], opened["actor"]) == ("ballot.opened", "ballotdesk (scheduled opening)")
    assert (last["type"], last["actor"]) == ("ballot.closed", "ballotdesk (deadline)")
    assert last["payload"]["by_deadline"] is True
