"""The live projection of an open ballot (issue #17 §1) through the API and on the secretary's page."""

from __future__ import annotations

from typing import Any

from schemas.tables import Event
from services.platform.db import Database
from services.usecases import notifications
from tests.integration.test_web_pages import committee, sign_in
from tests.world import ADMIN, World, ok


async def test_officers_see_where_an_open_ballot_stands_and_delegates_do_not(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP", "GB", "US"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve")
    await w.vote(ballot_id, "FR", "disapprove", reasons="Clause 5 conflicts with ISO 9001.")
    for who in (w.headers["secretary"], w.headers["convenor"], ADMIN):
        seen = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=who))
        assert seen["projection"] == {
            "approved_if_closed_now": False,
            "criteria": [
                {"name": "P-members two-thirds", "met": False, "arithmetic": "3 × 1 = 3 < 2 × (1 + 1) = 4"},
                {"name": "disapprovals at most one quarter", "met": False, "arithmetic": "4 × 1 = 4 > 1 + 1 = 2"},
            ],
            "not_voted": ["GB", "JP", "US"],
            "can_still_pass": True,
            "can_still_fail": True,
            "needs": "Not approved if closed now; it needs 2 approvals from the 3 P-members that have not voted, "
            "or 1 fewer disapproval among the votes cast.",
        }
    # A delegate's view would tell other bodies' votes.
    for code in ("DE", "GB"):
        assert (await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=w.headers[code])))[
            "projection"
        ] is None
    listed = await ok(await client.get("/api/v1/ballots", headers=w.headers["secretary"]))
    assert all(b["projection"] is None for b in listed)  # one ballot's read only

    for code in ("GB", "JP", "US"):
        await w.vote(ballot_id, code, "approve")
    closing = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=w.headers["secretary"]))
    assert closing["projection"]["approved_if_closed_now"] is True
    closed = await w.close(ballot_id)
    # The close decides as the projection said just before it.
    assert closed["result"]["approved"] is True and closed["projection"] is None


async def test_the_secretarys_ballot_page_shows_the_projection(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    await w.vote(ballot_id, "DE", "approve")
    await sign_in(client, emails["secretary"])
    page = await client.get(f"/ballots/{ballot_id}")
    assert 'id="projection"' in page.text
    assert "If the ballot closed now:" in page.text and "Not voted yet: FR, JP." in page.text
    await sign_in(client, emails["FR"])
    assert 'id="projection"' not in (await client.get(f"/ballots/{ballot_id}")).text


async def test_a_reminder_tells_the_body_whose_vote_decides_when_the_installation_says_so(
    client: Any, clock: Any, db: Database
) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP", "GB"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve")
    await w.vote(ballot_id, "FR", "approve")
    await w.vote(ballot_id, "JP", "disapprove", reasons="Clause 5 conflicts with ISO 9001.")
    due = Event(type="ballot.reminder_due", aggregate=f"ballot:{ballot_id}", payload={"ballot_id": ballot_id})
    async with db.read() as session:
        plain = await notifications.mails_for(session, due, "http://x")
        told = await notifications.mails_for(session, due, "http://x", say_decisive=True)
    assert [m.to for m in plain] == [m.to for m in told] == ["gb@example.org"]
    assert notifications.DECISIVE not in plain[0].body
    assert notifications.DECISIVE in told[0].body
    await w.vote(ballot_id, "JP", "approve")  # now approved whatever GB does
    async with db.read() as session:
        told = await notifications.mails_for(session, due, "http://x", say_decisive=True)
    assert notifications.DECISIVE not in told[0].body
