"""Concurrent writers: 200 clients for 170 member bodies cast and change votes and replace comment
sets over HTTP, through two API processes on PostgreSQL. Thirty bodies have two clients, on
different processes, writing at the same time.

Afterwards: each body's current vote and comment set is its last acknowledged write (for a body
with two clients: the register is linearisable, a write acknowledged before another was sent is
older in the store); the vote and comment events are exactly the acknowledged writes, each once,
in a chain per body (one `vote.cast`, then `vote.changed` naming the previous position; comment
set versions 1, 2, 3 …); no 5xx and no transport error.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from pathlib import Path

from services.platform.db import Database
from tests import processes
from tests.bench import seed
from tests.reliability.conftest import Figures, scaled
from tests.reliability.harness import (
    Tally,
    Write,
    ballot_events,
    http_client,
    put_comments,
    put_vote,
    rows,
    start_apis,
    votes_by_marker,
)

CLIENTS = 200
BODIES = 170
POSITIONS = ("approve", "disapprove", "abstain")


def linearisable(writes: list[Write], order: dict[str, int]) -> list[str]:
    """Pairs of one body's writes stored against real-time order: W1 acknowledged before W2 was
    sent, yet W2 stored first (or either missing from `order`)."""
    wrong = []
    for w1 in writes:
        for w2 in writes:
            if w1 is not w2 and w1.acked < w2.sent and not order.get(w1.marker, -1) < order.get(w2.marker, -1):
                wrong.append(f"{w1.marker} acked before {w2.marker} was sent, stored after it")
    return wrong


def last_acknowledged(writes: list[Write]) -> set[str]:
    """The writes that may legitimately be current: none of the body's writes was sent after
    their acknowledgement (one candidate for a body with one client)."""
    return {w.marker for w in writes if not any(o.sent > w.acked for o in writes if o is not w)}


async def test_two_hundred_clients_on_two_api_processes_lose_and_duplicate_nothing(
    pg: Database, postgres_url: str, tmp_path: Path, figures: Figures
) -> None:
    per_client = scaled(4, 40)
    world = await seed.seed_world(pg, n_bodies=BODIES, p_members=60)
    ballot_id = await seed.open_ballot(pg, world, "DIS")
    env = processes.environment(postgres_url, production=False)
    with processes.stopped_at_exit() as started:
        started += start_apis(env, tmp_path, count=2)
        apis = [http_client(api.url) for api in started]
        tally = Tally()

        async def client(i: int) -> None:
            code = world.codes[i % BODIES]
            token = world.tokens[code]
            api = (i + i // BODIES) % 2  # a body's two clients use different processes
            rng = random.Random(i)
            for n in range(per_client):
                marker = f"c{i:03d}-w{n:03d}-{code}"
                if rng.random() < 0.65:
                    write = Write(i, code, "vote", marker, position=rng.choice(POSITIONS), api=api)
                    tally.writes.append(await put_vote(apis[api], ballot_id, token, write))
                else:
                    write = Write(i, code, "comments", marker, comments=rng.randint(1, 4), api=api)
                    tally.writes.append(await put_comments(apis[api], ballot_id, token, write))

        try:
            await asyncio.gather(*(client(i) for i in range(CLIENTS)))
        finally:
            await asyncio.gather(*(a.aclose() for a in apis))

    stored = await votes_by_marker(pg, ballot_id)
    events = await ballot_events(pg, ballot_id)
    acked_votes = [w for w in tally.acknowledged if w.kind == "vote"]
    acked_sets = [w for w in tally.acknowledged if w.kind == "comments"]
    by_body: dict[str, dict[str, list[Write]]] = defaultdict(lambda: {"vote": [], "comments": []})
    for w in tally.acknowledged:
        by_body[w.body][w.kind].append(w)

    # Votes: the store and the log hold exactly the acknowledged writes.
    vote_events = [e for e in events if e.type in ("vote.cast", "vote.changed")]
    event_vote_ids = [int(e.payload["vote_id"]) for e in vote_events]
    acked_ids = {stored[w.marker][0] for w in acked_votes if w.marker in stored}
    votes_lost = [w.marker for w in acked_votes if w.marker not in stored]
    events_lost = sorted(acked_ids - set(event_vote_ids))
    duplicate_events = len(event_vote_ids) - len(set(event_vote_ids))
    unacknowledged_stored = sorted(set(stored) - {w.marker for w in acked_votes})

    # Per body: the current vote is the last acknowledged; stored order respects real time; the
    # events form one chain (one cast, then changes naming the previous position).
    current = {
        r.body: r.reasons
        for r in await rows(
            pg,
            "SELECT DISTINCT ON (body) body, reasons FROM vote WHERE ballot_id = :b ORDER BY body, id DESC",
            b=ballot_id,
        )
    }
    vote_order = {marker: vid for marker, (vid, _, _) in stored.items()}
    wrong_current: list[str] = []
    misordered: list[str] = []
    broken_chains: list[str] = []
    for body, kinds in by_body.items():
        if kinds["vote"]:
            if current.get(body) not in last_acknowledged(kinds["vote"]):
                wrong_current.append(f"{body}: current vote {current.get(body)}")
            misordered += linearisable(kinds["vote"], vote_order)
        chain = [e.payload for e in vote_events if e.payload["body"] == body]
        types = ["vote.cast" if "previous_position" not in p else "vote.changed" for p in chain]
        if chain and types != ["vote.cast"] + ["vote.changed"] * (len(chain) - 1):
            broken_chains.append(f"{body}: {types}")
        for before, after in itertools.pairwise(chain):
            if after.get("previous_position") != before["position"]:
                broken_chains.append(f"{body}: {after['vote_id']} follows {before['position']}")

    # Comment sets: versions 1..n per body, one event each, the current set the last acknowledged.
    set_events = [e.payload for e in events if e.type in ("comments.submitted", "comments.replaced")]
    versions: dict[str, list[int]] = defaultdict(list)
    for p in set_events:
        versions[p["body"]].append(int(p["set_version"]))
    bad_versions = {b: v for b, v in versions.items() if v != list(range(1, len(v) + 1))}
    sets_lost = len(acked_sets) - len(set_events)
    current_sets = await rows(
        pg,
        "SELECT body, set_version, comment FROM comment WHERE ballot_id = :b AND NOT superseded ORDER BY body, seq",
        b=ballot_id,
    )
    shown: dict[str, set[str]] = defaultdict(set)
    shown_versions: dict[str, set[int]] = defaultdict(set)
    for r in current_sets:
        shown[r.body].add(r.comment.split(" #")[0])
        shown_versions[r.body].add(int(r.set_version))
    wrong_sets = []
    set_order = {w.marker: w.set_version for w in acked_sets}
    for body, kinds in by_body.items():
        if not kinds["comments"]:
            continue
        if (
            len(shown[body]) != 1
            or len(shown_versions[body]) != 1
            or not shown[body] <= last_acknowledged(kinds["comments"])
        ):
            wrong_sets.append(f"{body}: current set {sorted(shown[body])} versions {sorted(shown_versions[body])}")
        misordered += linearisable(kinds["comments"], set_order)

    figures.add(
        "1 concurrent writers (200 clients, 2 APIs)",
        writes=len(tally.writes),
        conflicts=len(tally.conflicts),
        errors=len(tally.server_errors) + len(tally.unavailable) + len(tally.transport_errors),
        events_lost=len(events_lost) + len(votes_lost) + max(sets_lost, 0),
        duplicates=duplicate_events + len(unacknowledged_stored) + max(-sets_lost, 0),
        votes=len(acked_votes),
        comment_sets=len(acked_sets),
        statuses=tally.statuses(),
        resent_after_dropped_connection=tally.resent,
    )
    assert not tally.server_errors and not tally.unavailable, [(w.status, w.detail) for w in tally.server_errors][:5]
    assert not tally.transport_errors, [w.detail for w in tally.transport_errors][:5]
    assert all(w.ok for w in tally.writes), tally.statuses()
    assert not votes_lost and not events_lost, (votes_lost[:5], events_lost[:5])
    assert duplicate_events == 0 and not unacknowledged_stored
    assert not wrong_current, wrong_current[:5]
    assert not broken_chains, broken_chains[:5]
    assert sets_lost == 0 and not bad_versions, (sets_lost, dict(list(bad_versions.items())[:5]))
    assert not wrong_sets, wrong_sets[:5]
    assert not misordered, misordered[:5]
