"""Issue #13 item 5: a ballot closed before its deadline does not count against the P-members
that had not voted yet, on the ledger page and in its JSON route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.enums import BallotType
from services.rules.participation import LedgerEntry, candidates
from tests.integration.test_web_pages import committee, sign_in
from tests.world import ok


async def test_an_early_close_is_marked_and_counts_against_nobody_who_had_not_voted(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock, stage="40.00")
    sec = w.headers["secretary"]
    early = await w.ballot("DIS")
    await w.vote(early, "DE", "approve", 201)
    await w.close(early)  # twelve weeks early: FR and JP had not voted yet
    route = f"/api/v1/committees/{w.committee_id}/participation"
    after_early = await ok(await client.get(route, headers=sec))
    assert after_early["candidates"] == []
    [row] = after_early["ballots"]
    assert row["id"] == early and row["closed_early"] is True and row["not_voted"] == ["FR", "JP"]
    assert {m["body"]: (m["counted"], m["missed"], m["closed_early"]) for m in after_early["members"]} == {
        "DE": (1, 0, 0),
        "FR": (0, 0, 1),
        "JP": (0, 0, 1),
    }

    await ok(
        await client.post(
            f"/api/v1/projects/{w.project_id}/decisions",
            json={"decision": "40.93", "reason": "New enquiry after the early close.", "ballot_id": early},
            headers=sec,
        ),
        201,
    )
    on_time = await w.ballot("DIS")
    await w.vote(on_time, "DE", "approve", 201)
    await w.vote(on_time, "JP", "approve", 201)
    clock.advance(weeks=12, minutes=1)
    await w.close(on_time)
    ledger = await ok(await client.get(route, headers=sec))
    assert [(b["id"], b["closed_early"]) for b in ledger["ballots"]] == [(on_time, False), (early, True)]
    assert [(c["body"], c["ballots_missed"]) for c in ledger["candidates"]] == [("FR", [on_time])]
    assert f"did not vote on the DIS ballot {on_time}" in ledger["candidates"][0]["reason"]

    await sign_in(client, emails["secretary"])
    page = await client.get(f"/committees/{w.committee_id}/participation")
    assert "closed early" in page.text and "not counted, closed early:</span> FR, JP" in page.text
    candidates_section = page.text.split("Candidates for O-membership")[1].split("</section>")[0]
    assert "FR" in candidates_section and "JP" not in candidates_section
    # A delegate reads neither the page nor the route.
    assert (await client.get(route, headers=w.headers["DE"])).status_code == 403


def test_a_vote_on_an_early_closed_ballot_still_counts_as_taking_part() -> None:
    closed = datetime(2026, 1, 10, tzinfo=UTC)
    internal = frozenset({BallotType.CD})
    now = closed + timedelta(days=30)
    # Two of five not voted, both closed early: none of the three counted is missed.
    entries = [LedgerEntry(i, BallotType.CD, closed, "DE", voted=i >= 2, closed_early=i < 2) for i in range(5)]
    assert candidates(entries, ["DE"], now, internal) == []
    # One missed of four counted is more than a fifth.
    counted_miss = [*entries, LedgerEntry(9, BallotType.CD, closed, "DE", voted=False)]
    [found] = candidates(counted_miss, ["DE"], now, internal)
    assert found.missed == (9,) and "missed 1 of 4 internal ballots" in found.reasons[0]
