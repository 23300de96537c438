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


async def test_the_report_names_each_bodys_standing_and_gives_the_reasons_text(
    client: Any, clock: Any, db: Database
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"], o=["JP"], others=["SE"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.vote(ballot_id, "FR", "disapprove", 201, reasons="Clause 4 conflicts with ISO 9001.")
    await w.vote(ballot_id, "JP", "abstain", 201)
    await w.vote(ballot_id, "SE", "disapprove", 201, reasons="Scope too wide.")
    clock.advance(minutes=7)
    await w.close(ballot_id)
    report = await built(db, ballot_id, collation.REPORT, "")
    rows = {}
    for table in report.tables:
        cells = [[c.text for c in r.cells] for r in table.rows]
        if cells[0][0] == "Member body":
            rows = {r[0]: r for r in cells[1:]}
    assert rows["DE"][2] == "P-member"
    assert rows["JP"][2:4] == ["O-member", "Abstention"]
    assert rows["SE"][2:5] == ["Member body outside the committee", "Disapproval", "Scope too wide."]
    assert rows["FR"][4] == "Clause 4 conflicts with ISO 9001."
    facts = {r.cells[0].text: r.cells[1].text for r in report.tables[0].rows}
    assert facts["Ballot"].startswith("DIS ballot on ISO/DIS ")
    assert facts["Closed"] == clock.now.strftime("%Y-%m-%d %H:%M UTC")
