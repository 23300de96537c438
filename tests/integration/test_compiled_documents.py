"""The compiled table and the results report built from a real ballot: what their dates say, and
what the report says of each body (#14)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import docx
from sqlmodel import select

from schemas.tables import Ballot, Document
from services.platform.db import Database
from services.rules.actors import COLLATION
from services.usecases import collation
from tests.world import World, ok


async def built(db: Database, ballot_id: int, kind: str, variant: str) -> Any:
    """Request and build a document in-process (the builder's work, without a broker)."""
    async with db.transaction() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        document = await collation.request(session, COLLATION, ballot, kind, variant, ballot.closes_at)
        assert document.id is not None
        document_id = document.id
    await collation.build(db, document_id)
    async with db.transaction() as session:
        stored = (await session.execute(select(Document).where(Document.id == document_id))).scalar_one()
        assert stored.status == "ready" and stored.content
        return docx.Document(io.BytesIO(stored.content))


def title_row(table: Any) -> list[str]:
    return [c.text for c in table.sections[0].header.tables[0].rows[0].cells]


async def test_an_open_ballots_table_is_dated_today_and_says_comments_so_far(
    client: Any, clock: Any, db: Database
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/FR",
            json={"comments": [{"clause": "1", "type": "te", "comment": "One."}]},
            headers=w.headers["FR"],
        ),
        201,
    )
    table = await built(db, ballot_id, collation.COMMENT_TABLE, "clause")
    today = datetime.now(UTC).date().isoformat()
    assert title_row(table)[1] == f"Date: {today}"
    assert table.paragraphs[0].text.startswith("Comments so far")
    assert title_row(table)[3].startswith("Project: ISO ")


async def test_a_closed_ballots_table_is_dated_by_its_close(client: Any, clock: Any, db: Database) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    clock.advance(days=3)
    await w.close(ballot_id)
    table = await built(db, ballot_id, collation.COMMENT_TABLE, "clause")
    assert title_row(table)[1] == f"Date: {clock.now.date().isoformat()}"
    assert clock.now.date() != datetime.now(UTC).date()  # the test's clock is not today's
    assert not any("so far" in p.text for p in table.paragraphs)
