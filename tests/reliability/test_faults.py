"""Faults: the broker, a worker, the database and the mail server fail under load.

(a) Redis stopped during vote intake and restarted: the API keeps accepting, every event is
    dispatched afterwards, each effect happens once.
(b) A worker killed with SIGKILL in the middle of building a 20,000-comment table: the table is
    built once, after a new worker starts.
(c) PostgreSQL restarted during intake: the API answers 503 with Retry-After (never 500), recovers
    by itself, and no acknowledged vote is lost.
(d) The SMTP server down: e-mails are retried, the failures recorded, and every e-mail delivered
    once the server is back.

Redis and PostgreSQL here are private servers of the test (harness.PrivateRedis/PrivatePostgres),
never the machine's shared ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from schemas.types import utcnow
from services.platform.db import Database
from services.rules.actors import ENV_ADMIN
from services.usecases import ballots
from tests import processes
from tests.bench import seed
from tests.reliability.conftest import Figures, scaled
from tests.reliability.harness import (
    Tally,
    Write,
    http_client,
    private_postgres,
    private_redis,
    put_comments,
    put_vote,
    reset_schema,
    rows,
    scalar,
    start_apis,
    until,
    votes_by_marker,
)

BODIES = 170
POSITIONS = ("approve", "disapprove", "abstain")
# Lost broker messages are sent again after this many seconds (production: minutes).
REDELIVER = "6"


async def pending(db: Database) -> int:
    return int(await scalar(db, "SELECT count(*) FROM delivery WHERE done_at IS NULL"))


async def effects_twice(db: Database) -> int:
    """Effects of one cause recorded more than once: e-mails per event, builds per document."""
    mails = await rows(
        db,
        "SELECT payload->>'cause_event_id' AS cause, count(*) AS n FROM event "
        "WHERE type = 'notification.sent' GROUP BY 1 HAVING count(*) > 1",
    )
    builds = await rows(
        db,
        "SELECT payload->>'document_id' AS doc, count(*) AS n FROM event "
        "WHERE type = 'document.generated' GROUP BY 1 HAVING count(*) > 1",
    )
    return sum(int(r.n) - 1 for r in [*mails, *builds])


async def close_now(db: Database, ballot_id: int) -> None:
    async with db.transaction() as session:
        await ballots.close_ballot(session, ENV_ADMIN, ballot_id, utcnow())


async def intake(
    urls: list[str], world: seed.World, ballot_id: int, seconds: float, tally: Tally, *, comments: bool = True
) -> None:
    """Each body's client changes its vote (and now and then its comments) for `seconds`,
    pausing briefly after a 503 as its Retry-After asks (a shortened pause: the test's clock)."""
    apis = [http_client(u, timeout=30.0) for u in urls]
    stop = time.monotonic() + seconds

    async def client(i: int) -> None:
        code = world.codes[i]
        rng = random.Random(i)
        n = 0
        while time.monotonic() < stop:
            marker = f"{code}-{n:05d}"
            if comments and rng.random() < 0.2:
                write = Write(i, code, "comments", marker, comments=rng.randint(1, 3), api=i % 2)
                await put_comments(apis[i % len(apis)], ballot_id, world.tokens[code], write)
            else:
                write = Write(i, code, "vote", marker, position=POSITIONS[(i + n) % 3], api=i % 2)
                await put_vote(apis[i % len(apis)], ballot_id, world.tokens[code], write)
            tally.writes.append(write)
            n += 1
            await asyncio.sleep(0.2 if write.status == 503 else 0.02)

    try:
        await asyncio.gather(*(client(i) for i in range(len(world.codes))))
    finally:
        await asyncio.gather(*(a.aclose() for a in apis))


async def unrecorded(db: Database, ballot_id: int, tally: Tally) -> list[str]:
    """Acknowledged votes missing from the store or from the log."""
    stored = await votes_by_marker(db, ballot_id)
    logged = {
        int(r.vote_id)
        for r in await rows(
            db,
            "SELECT payload->>'vote_id' AS vote_id FROM event WHERE type IN ('vote.cast', 'vote.changed') "
            "AND aggregate = :a",
            a=f"ballot:{ballot_id}",
        )
    }
    acked = [w for w in tally.acknowledged if w.kind == "vote"]
    return [w.marker for w in acked if w.marker not in stored or stored[w.marker][0] not in logged]


async def test_redis_stopped_during_vote_intake_and_restarted(
    pg: Database, postgres_url: str, tmp_path: Path, figures: Figures
) -> None:
    world = await seed.seed_world(pg, n_bodies=BODIES, p_members=60)
    ballot_id = await seed.open_ballot(pg, world, "DIS")
    seconds = scaled(4, 20)
    with private_redis() as redis:
        env = processes.environment(
            postgres_url, broker_url=redis.url, production=False, extra={"BALLOTDESK_REDELIVER_SECONDS": REDELIVER}
        )
        with processes.stopped_at_exit() as started:
            started += start_apis(env, tmp_path, count=2)
            worker = processes.start_worker(env, tmp_path, processes=1, threads=4)
            started.append(worker)
            processes.wait_ready(worker)
            tally = Tally()

            async def outage() -> None:
                await asyncio.sleep(seconds / 4)
                redis.kill()

            await asyncio.gather(intake([a.url for a in started[:2]], world, ballot_id, seconds, tally), outage())
            await close_now(pg, ballot_id)  # the close, too, during the outage
            await asyncio.sleep(1.0)
            waiting = await pending(pg)
            assert waiting > 0, "nothing waited for the broker: was it down?"
            redis.start()
            await until(lambda: _none_pending(pg), timeout=90, what="every delivery done after Redis returned")
            await asyncio.sleep(1.0)  # room for a duplicate to show
    lost = await unrecorded(pg, ballot_id, tally)
    twice = await effects_twice(pg)
    documents = await rows(pg, "SELECT kind, variant, status FROM document WHERE ballot_id = :b", b=ballot_id)
    resent = int(await scalar(pg, "SELECT count(*) FROM delivery WHERE attempts > 1"))
    figures.add(
        "3a Redis down during intake",
        writes=len(tally.writes),
        conflicts=len(tally.conflicts),
        errors=len([w for w in tally.writes if not w.ok]),
        events_lost=len(lost) + await pending(pg),
        duplicates=twice,
        waited_for_broker=waiting,
        sent_again=resent,
    )
    assert all(w.ok for w in tally.writes), tally.statuses()
    assert not lost, lost[:5]
    assert await pending(pg) == 0
    assert twice == 0
    assert sorted((d.kind, d.variant, d.status) for d in documents) == [
        ("comment_table", "clause", "ready"),
        ("report", "", "ready"),
    ]


async def _none_pending(db: Database) -> bool:
    return await pending(db) == 0


async def test_a_worker_killed_in_the_middle_of_a_20000_comment_collation(
    pg: Database, postgres_url: str, tmp_path: Path, figures: Figures
) -> None:
    comments = scaled(20_000, 20_000)
    world = await seed.seed_world(pg, n_bodies=BODIES, p_members=60)
    ballot_id = await seed.open_ballot(pg, world, "DIS")
    await seed.insert_votes(pg, world, ballot_id)
    await seed.insert_comments(pg, ballot_id, seed.comment_rows(comments, world.codes))
    await close_now(pg, ballot_id)
    table = "SELECT id, status FROM document WHERE ballot_id = :b AND kind = 'comment_table'"
    with private_redis() as redis:
        env = processes.environment(
            postgres_url, broker_url=redis.url, production=False, extra={"BALLOTDESK_REDELIVER_SECONDS": REDELIVER}
        )
        with processes.stopped_at_exit() as started:
            first = processes.start_worker(env, tmp_path, processes=1, threads=2)
            started.append(first)
            processes.wait_ready(first)

            requested = await until(
                lambda: rows(pg, table, b=ballot_id), timeout=60, what="the table requested", interval=0.01
            )
            document_id = requested[0].id

            async def building() -> bool:
                return f"builder starts document {document_id} " in first.log()

            await until(building, timeout=60, what="the worker starting the table's build", interval=0.01)
            await asyncio.sleep(0.2)  # reading 20,000 rows and writing the table take about a second
            processes.kill(first)
            killed = await rows(pg, table, b=ballot_id)
            assert [d.status for d in killed] == ["requested"], f"the build was not in progress: {killed}"
            second = processes.start_worker(env, tmp_path, processes=1, threads=2)
            started.append(second)
            processes.wait_ready(second)
            await until(lambda: _table_ready(pg, ballot_id), timeout=60, what="the table built after the restart")
            await until(lambda: _none_pending(pg), timeout=60, what="every delivery done")
            await asyncio.sleep(float(REDELIVER) + 1)  # a second build would have started by now
    built = await rows(pg, table, b=ballot_id)
    generated = int(
        await scalar(
            pg,
            "SELECT count(*) FROM event WHERE type = 'document.generated' AND payload->>'kind' = 'comment_table'",
        )
    )
    rows_in_table = int(
        await scalar(pg, "SELECT rows FROM document WHERE ballot_id = :b AND kind = 'comment_table'", b=ballot_id)
    )
    figures.add(
        f"3b worker SIGKILL mid-collation ({comments} comments)",
        events_lost=await pending(pg),
        duplicates=generated - 1 + len(built) - 1,
        table_rows=rows_in_table,
    )
    assert [d.status for d in built] == ["ready"]
    assert generated == 1
    assert rows_in_table == comments
    assert await effects_twice(pg) == 0


async def _table_ready(db: Database, ballot_id: int) -> bool:
    found = await rows(db, "SELECT status FROM document WHERE ballot_id = :b AND kind = 'comment_table'", b=ballot_id)
    return any(r.status == "ready" for r in found)


async def test_postgresql_restarted_during_intake(tmp_path: Path, figures: Figures) -> None:
    seconds = scaled(8, 30)
    with private_postgres() as server:
        await reset_schema(server.url)
        db = Database(server.url)
        try:
            world = await seed.seed_world(db, n_bodies=BODIES, p_members=60)
            ballot_id = await seed.open_ballot(db, world, "DIS")
            await db.dispose()  # the test's own connections must not be the ones the restart ends
            env = processes.environment(server.url, production=False)
            restarted: dict[str, float] = {}
            with processes.stopped_at_exit() as started:
                started += start_apis(env, tmp_path, count=2)
                tally = Tally()

                async def restart() -> None:
                    await asyncio.sleep(seconds / 4)
                    restarted["begun"] = time.monotonic()
                    await asyncio.to_thread(server.restart)
                    restarted["done"] = time.monotonic()

                await asyncio.gather(
                    intake([a.url for a in started], world, ballot_id, seconds, tally, comments=False), restart()
                )
            lost = await unrecorded(db, ballot_id, tally)
        finally:
            await db.dispose()
    unavailable = tally.unavailable
    without_retry_after = [w for w in unavailable if not w.retry_after]
    others = [w for w in tally.writes if not w.ok and w.status != 503]
    after = [w for w in tally.acknowledged if w.sent > restarted["done"]]
    recovered_on = {w.api for w in after}
    figures.add(
        "3c PostgreSQL restarted during intake",
        writes=len(tally.writes),
        conflicts=len(tally.conflicts),
        errors=len(others),
        events_lost=len(lost),
        refusals=len(unavailable),
        acked_after_restart=len(after),
        resent_after_dropped_connection=tally.resent,
        restart_s=round(restarted["done"] - restarted["begun"], 1),
    )
    assert not others, [(w.status, w.detail) for w in others][:5]
    assert unavailable, "no request met the restart: it was not during intake"
    assert not without_retry_after
    assert not lost, lost[:5]
    assert recovered_on == {0, 1}, "both API processes take votes again after the restart"


async def test_mail_retried_while_the_smtp_server_is_down(
    pg: Database, postgres_url: str, tmp_path: Path, figures: Figures
) -> None:
    from aiosmtpd.controller import Controller

    received: list[tuple[str, str]] = []

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            subject = next(
                (line[9:] for line in envelope.content.decode().splitlines() if line.startswith("Subject: ")), ""
            )
            received.extend((rcpt, subject) for rcpt in envelope.rcpt_tos)
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bodies = scaled(10, 170)
    world = await seed.seed_world(pg, n_bodies=bodies, p_members=bodies)
    ballot_id = await seed.open_ballot(pg, world, "DIS")
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    with private_redis() as redis:
        env = processes.environment(
            postgres_url,
            broker_url=redis.url,
            smtp_url=f"smtp://127.0.0.1:{port}",
            production=False,
            extra={"BALLOTDESK_REDELIVER_SECONDS": "60"},
        )
        with processes.stopped_at_exit() as started:
            started += start_apis(env, tmp_path, count=1)
            worker = processes.start_worker(env, tmp_path, processes=1, threads=2)
            started.append(worker)
            processes.wait_ready(worker)
            try:
                await until(lambda: _at_least(received, bodies), timeout=60, what="the ballot-opened e-mails")
                smtp.stop()
                received.clear()
                ballot = (await rows(pg, "SELECT closes_at FROM ballot WHERE id = :b", b=ballot_id))[0]
                async with http_client(started[0].url) as http:
                    response = await http.post(
                        f"/api/v1/ballots/{ballot_id}/extend",
                        json={"closes_at": (ballot.closes_at + timedelta(days=7)).isoformat()},
                        headers={"Authorization": f"Bearer {world.tokens['secretary']}"},
                    )
                    assert response.status_code == 200, response.text
                failed = await until(
                    lambda: _failures(pg), timeout=60, what="a recorded e-mail failure while SMTP is down"
                )
                smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
                smtp.start()
                await until(lambda: _at_least(received, bodies), timeout=120, what="the e-mails once SMTP is back")
                await until(lambda: _none_pending(pg), timeout=60, what="every delivery done")
                await asyncio.sleep(2.0)  # room for a duplicate to show
            finally:
                with contextlib.suppress(AssertionError):  # already stopped when the test failed early
                    smtp.stop()
    extended = [r for r in received if "Deadline changed" in r[1]]
    per_recipient: dict[str, int] = {}
    for to, _ in extended:
        per_recipient[to] = per_recipient.get(to, 0) + 1
    duplicates = sum(n - 1 for n in per_recipient.values())
    failures = await _failures(pg)
    figures.add(
        "3d SMTP down",
        events_lost=bodies - len(per_recipient),
        duplicates=duplicates + await effects_twice(pg),
        mails_after_outage=len(extended),
        failures_recorded=failures,
    )
    assert failed >= 1 and failures >= 1
    assert len(per_recipient) == bodies and duplicates == 0, per_recipient
    assert await effects_twice(pg) == 0


async def _at_least(items: list[Any], n: int) -> bool:
    return len(items) >= n


async def _failures(db: Database) -> int:
    return int(await scalar(db, "SELECT count(*) FROM event WHERE type = 'notification.failed'"))
