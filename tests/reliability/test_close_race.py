"""The close race: votes in flight while the secretary closes, and while the deadline passes.

Every acknowledged vote precedes `ballot.closed` in the log and is the one counted for its body;
every vote after it is refused with a 409 that says the ballot closed; the result's counts equal
what the log says. And no vote waits on a row that every vote updates: a vote whose transaction
is still open holds up no other vote, only the close.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from schemas import api
from schemas.enums import Position
from schemas.types import utcnow
from services.platform.db import Database
from services.usecases import votes
from tests import processes
from tests.bench import seed
from tests.reliability.conftest import Figures, scaled
from tests.reliability.harness import (
    Tally,
    Write,
    ballot_events,
    http_client,
    log_counts,
    put_vote,
    rows,
    start_apis,
    votes_by_marker,
)

BODIES = 170
POSITIONS = ("approve", "disapprove", "abstain")


async def vote_until_refused(
    apis: list[httpx.AsyncClient], world: seed.World, ballot_id: int, tally: Tally, i: int, after_refusal: int = 2
) -> None:
    """One body's client: changes its vote again and again until refused, then tries a few more.
    A 503 (the database busy: nothing written) is sent again, as its Retry-After asks."""
    code = world.codes[i]
    refused = 0
    n = 0
    while refused <= after_refusal and n < 10_000:
        write = Write(i, code, "vote", f"{code}-{n:05d}", position=POSITIONS[(i + n) % 3], api=i % 2)
        tally.writes.append(await put_vote(apis[i % 2], ballot_id, world.tokens[code], write))
        if write.status == 503 and len(tally.unavailable) < 1000:
            await asyncio.sleep(0.2)
            continue
        if not write.ok:
            refused += 1
            if write.status != 409:
                return
        n += 1


async def check_race(
    pg: Database, ballot_id: int, tally: Tally, *, by_deadline: bool
) -> tuple[dict[str, Any], list[str]]:
    """The properties of a close under load; returns the figures and what went wrong."""
    problems: list[str] = []
    events = await ballot_events(pg, ballot_id)
    closed = [e for e in events if e.type == "ballot.closed"]
    if len(closed) != 1:
        return {}, [f"{len(closed)} ballot.closed events"]
    closed_id = closed[0].id
    if closed[0].payload["by_deadline"] is not by_deadline:
        problems.append(f"closed by_deadline={closed[0].payload['by_deadline']}")
    stored = await votes_by_marker(pg, ballot_id)
    event_of = {int(e.payload["vote_id"]): e.id for e in events if e.type in ("vote.cast", "vote.changed")}
    acked = tally.acknowledged
    refused = [w for w in tally.writes if not w.ok and w.status != 503]
    late = [w.marker for w in acked if w.marker not in stored or event_of.get(stored[w.marker][0], 10**18) > closed_id]
    if late:
        problems.append(f"acknowledged votes missing or after ballot.closed: {late[:5]}")
    bad_refusals = [
        (w.status, w.detail)
        for w in refused
        if w.status != 409 or ("closed" not in w.detail and "deadline" not in w.detail)
    ]
    if bad_refusals:
        problems.append(f"refusals that are not a clear 409: {bad_refusals[:5]}")
    written_anyway = [w.marker for w in refused if w.marker in stored]
    if written_anyway:
        problems.append(f"refused votes stored: {written_anyway[:5]}")
    # A client's writes are sequential: nothing acknowledged after its first refusal.
    for i in {w.client for w in tally.writes}:
        mine = [w for w in tally.writes if w.client == i]
        first_refusal = next((k for k, w in enumerate(mine) if not w.ok and w.status != 503), len(mine))
        if any(w.ok for w in mine[first_refusal:]):
            problems.append(f"client {i}: a vote acknowledged after a refusal")
    # The vote counted for each body is its last acknowledged one.
    last_acked: dict[str, Write] = {}
    for w in acked:
        last_acked[w.body] = w
    counted: dict[str, int] = {}
    for e in events:
        if e.id > closed_id:
            break
        if e.type in ("vote.cast", "vote.changed"):
            counted[e.payload["body"]] = int(e.payload["vote_id"])
    for body, w in last_acked.items():
        if counted.get(body) != stored.get(w.marker, (None,))[0]:
            problems.append(f"{body}: the counted vote is not its last acknowledged one ({w.marker})")
    result = (await rows(pg, "SELECT result FROM ballot WHERE id = :b", b=ballot_id))[0].result
    expected = log_counts(events)
    shown = {k: result["counts"][k] for k in expected}
    if shown != expected:
        problems.append(f"result counts {shown} but the log says {expected}")
    figures = {
        "writes": len(tally.writes),
        "errors": len([w for w in tally.writes if (w.status >= 500 and w.status != 503) or w.status == 0]),
        "busy_503": len(tally.unavailable),
        "resent_after_dropped_connection": tally.resent,
        "events_lost": len(late),
        "duplicates": len(written_anyway),
        "refusals": len(refused),
        "acknowledged": len(acked),
        "voted": expected["all_voted"],
    }
    return figures, problems


async def test_votes_in_flight_while_the_secretary_closes(
    pg: Database, postgres_url: str, tmp_path: Path, figures: Figures
) -> None:
    world = await seed.seed_world(pg, n_bodies=BODIES, p_members=60)
    ballot_id = await seed.open_ballot(pg, world, "DIS")
    warm_up = scaled(300, 3000)
    env = processes.environment(postgres_url, production=False)
    with processes.stopped_at_exit() as started:
        started += start_apis(env, tmp_path, count=2)
        apis = [http_client(a.url) for a in started]
        tally = Tally()
        closing: dict[str, Any] = {}

        async def secretary() -> None:
            while len(tally.acknowledged) < warm_up:
                await asyncio.sleep(0.01)
            response = await apis[0].post(
                f"/api/v1/ballots/{ballot_id}/close", headers={"Authorization": f"Bearer {world.tokens['secretary']}"}
            )
            closing["status"] = response.status_code

        try:
            await asyncio.gather(
                secretary(), *(vote_until_refused(apis, world, ballot_id, tally, i) for i in range(BODIES))
            )
        finally:
            await asyncio.gather(*(a.aclose() for a in apis))
    assert closing["status"] == 200
    row, problems = await check_race(pg, ballot_id, tally, by_deadline=False)
    figures.add("2 close race: secretary closes", **row)
    assert not problems, problems


async def test_votes_in_flight_while_the_deadline_passes(
    pg: Database, postgres_url: str, tmp_path: Path, figures: Figures
) -> None:
    world = await seed.seed_world(pg, n_bodies=BODIES, p_members=60)
    env = processes.environment(postgres_url, production=False)
    with processes.stopped_at_exit() as started:
        started += start_apis(env, tmp_path, count=2)
        # Any number of schedulers may run; two sweep the deadline here, as in production.
        for _ in range(2):
            started.append(processes.start_scheduler(env, tmp_path, interval=0.1))
        for scheduler in started[2:]:
            processes.wait_ready(scheduler)
        open_for = scaled(4, 20)
        # The API insists on a future deadline: the ballot is opened now and closes `open_for` later.
        ballot_id = await seed.open_ballot(pg, world, "DIS", open_for=timedelta(seconds=open_for))
        closes_at = (await rows(pg, "SELECT closes_at FROM ballot WHERE id = :b", b=ballot_id))[0].closes_at
        apis = [http_client(a.url) for a in started[:2]]
        tally = Tally()
        try:
            await asyncio.gather(*(vote_until_refused(apis, world, ballot_id, tally, i) for i in range(BODIES)))
            deadline = time.monotonic() + 30
            while (await rows(pg, "SELECT status FROM ballot WHERE id = :b", b=ballot_id))[0].status != "closed":
                assert time.monotonic() < deadline, "the schedulers did not close the ballot at its deadline"
                await asyncio.sleep(0.1)
        finally:
            await asyncio.gather(*(a.aclose() for a in apis))
    row, problems = await check_race(pg, ballot_id, tally, by_deadline=True)
    cast_late = await rows(
        pg, "SELECT count(*) AS n FROM vote WHERE ballot_id = :b AND cast_at >= :c", b=ballot_id, c=closes_at
    )
    if cast_late[0].n:
        problems.append(f"{cast_late[0].n} votes cast at or after the deadline were stored")
    figures.add("2 close race: deadline passes", **row)
    assert not problems, problems


async def test_a_vote_in_flight_holds_up_no_other_vote_only_the_close(
    pg: Database, postgres_url: str, tmp_path: Path, figures: Figures
) -> None:
    world = await seed.seed_world(pg, n_bodies=40, p_members=40)
    ballot_id = await seed.open_ballot(pg, world, "DIS")
    held_code, others = world.codes[0], world.codes[1:]
    env = processes.environment(postgres_url, production=False)
    release = asyncio.Event()
    holding = asyncio.Event()

    async def vote_held_open() -> None:
        # A vote whose transaction has done all its work but not committed yet (a slow client,
        # a paused process): it holds whatever a vote holds.
        async with pg.transaction() as session:
            await votes.cast_vote(
                session,
                world.delegate(held_code),
                ballot_id,
                held_code,
                api.VotePut(position=Position.APPROVE, reasons="held open"),
                utcnow(),
            )
            holding.set()
            await release.wait()

    with processes.stopped_at_exit() as started:
        started += start_apis(env, tmp_path, count=1)
        http = http_client(started[0].url, timeout=10.0)
        held = asyncio.create_task(vote_held_open())
        try:
            await asyncio.wait_for(holding.wait(), 10)
            begun = time.monotonic()
            tally = Tally(writes=[Write(0, c, "vote", f"{c}-free", position="approve") for c in others])
            await asyncio.gather(*(put_vote(http, ballot_id, world.tokens[w.body], w) for w in tally.writes))
            waited = time.monotonic() - begun
            assert held.done() is False
            assert all(w.status == 201 for w in tally.writes), tally.statuses()
            assert waited < 5, f"votes took {waited:.1f} s while another vote was in flight"
            close = asyncio.create_task(
                http.post(
                    f"/api/v1/ballots/{ballot_id}/close",
                    headers={"Authorization": f"Bearer {world.tokens['secretary']}"},
                )
            )
            await asyncio.sleep(1.0)
            close_waited = not close.done()
            release.set()
            await held
            response = await close
        finally:
            release.set()
            await http.aclose()
    assert close_waited, "the close did not wait for the vote in flight"
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["counts"]["all_voted"] == len(others) + 1  # the vote in flight is counted
    figures.add(
        "2 no shared row: votes beside an open vote",
        writes=len(tally.writes),
        errors=len([w for w in tally.writes if w.status != 201]),
        seconds=round(waited, 2),
    )
