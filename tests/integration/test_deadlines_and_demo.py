"""Ballots open and close on time without anyone acting; the demo data loads once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from schemas import api
from schemas.enums import BallotType
from schemas.tables import Ballot, Event, Project
from services.cli import demo
from services.platform.db import Database
from services.rules.actors import DEADLINE, DEMO
from services.rules.errors import InvalidInput
from services.usecases import ballots, deadlines
from services.views import presenters
from tests.world import ADMIN, World, iso, ok


async def test_the_sweep_closes_ballots_past_their_deadline_exactly_once(client, clock, db: Database) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    # The test clock stands in March 2026; the sweep uses the real clock, for which this deadline has passed.
    ballot_id = await w.ballot("DIS", weeks=12)
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.vote(ballot_id, "FR", "approve", 201)
    first, second = await deadlines.sweep(db), await deadlines.sweep(db)
    assert first.closed == [ballot_id] and second.closed == []
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert ballot["status"] == "closed" and ballot["result"]["approved"] is True
    assert ballot["result"]["not_voted"] == ["JP"]
    log = await ok(await client.get(f"/api/v1/events?type=ballot.closed&aggregate=ballot:{ballot_id}", headers=ADMIN))
    assert len(log["items"]) == 1
    assert log["items"][0]["payload"]["by_deadline"] is True
    assert log["items"][0]["actor"] == DEADLINE.label


async def test_a_ballot_with_an_opening_time_opens_by_itself(client, clock, db: Database) -> None:
    w = await World(client, clock).build(p=["DE"])
    real_now = datetime.now(UTC)
    ballot_id = await w.ballot(
        "DIS",
        open=False,
        weeks=0,
        opens_at=iso(clock.now + timedelta(days=1)),
        closes_at=iso(real_now + timedelta(weeks=12)),
    )
    done = await deadlines.sweep(db)
    assert done.opened == [ballot_id]
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert ballot["status"] == "open"
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "40.20"


async def test_the_demo_loads_once_with_a_voted_dis_and_an_open_cd(db: Database) -> None:
    now = datetime.now(UTC)
    assert await demo.load(db, now) is True
    assert await demo.load(db, now) is False
    async with db.transaction() as session:
        rows = list((await session.execute(select(Ballot).order_by(Ballot.id))).scalars())
        assert [(b.type, b.status) for b in rows] == [(BallotType.DIS.value, "closed"), (BallotType.CD.value, "open")]
        dis = rows[0]
        assert dis.approved is True and dis.result is not None and dis.result["not_voted"] == ["KR"]
        project = await session.get(Project, dis.project_id)
        assert project is not None and project.stage == "40.60"
        events = list((await session.execute(select(Event.type))).scalars())
        assert events.count("ballot.closed") == 1 and "vote.cast" in events
        assert (await presenters.ballot_out(session, rows[1], now)).document == "ISO/CD TS 19387"
    first = await demo.issue_tokens(db, now)
    second = await demo.issue_tokens(db, now)
    assert len(first) == len(demo.DEMO_USERS) and {t for _, t in first}.isdisjoint({t for _, t in second})


async def test_a_ballot_cannot_be_created_closing_in_the_past(db: Database) -> None:
    await demo.load(db, datetime.now(UTC))
    async with db.transaction() as session:
        project = (await session.execute(select(Project).where(Project.reference == "ISO/TS 19390"))).scalar_one()
        assert project.id is not None
        project_id = project.id
    with pytest.raises(InvalidInput):
        async with db.transaction() as session:
            await ballots.create_ballot(
                session,
                DEMO,
                api.BallotCreate(project_id=project_id, type=BallotType.WD, closes_at=datetime(2020, 1, 1, tzinfo=UTC)),
                datetime.now(UTC),
            )
