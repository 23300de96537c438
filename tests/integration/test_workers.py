"""Workers for real: events reach dramatiq through the outbox, on the in-process broker, Redis and
RabbitMQ; documents are built once per version; e-mails go out over SMTP, retried when it fails."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import docx
import pytest
from sqlmodel import col, func, select

from schemas.tables import Delivery, Document, Event
from services.platform.db import Database
from services.platform.settings import Settings
from services.usecases import deadlines
from tests.world import ADMIN, World, ok
from workers.consumers import deliver
from workers.runtime import BackgroundLoop, Runtime

REDIS_URL = os.environ.get("BALLOTDESK_TEST_REDIS_URL", "")
AMQP_URL = os.environ.get("BALLOTDESK_TEST_AMQP_URL", "")
REQUIRE_BROKERS = os.environ.get("BALLOTDESK_REQUIRE_SERVICES") == "1"


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 45.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _broker(kind: str) -> str:
    url = {"embedded": "", "redis": REDIS_URL, "rabbitmq": AMQP_URL}[kind]
    if kind != "embedded" and not url:
        if REQUIRE_BROKERS:
            pytest.fail(f"{kind} is required in CI: set BALLOTDESK_TEST_{'REDIS' if kind == 'redis' else 'AMQP'}_URL")
        pytest.skip(f"{kind} not configured")
    return url


@pytest.fixture(params=["embedded", "redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    return _broker(request.param)


async def start(settings: Settings, db: Database) -> tuple[Runtime, BackgroundLoop]:
    """Worker threads plus a relay on a loop of its own, as in a worker process. (Not on the test's
    loop: the test client blocks that loop while a request runs, which would stall the relay.)"""
    runtime = Runtime(settings, db)
    runtime.broker.flush_all()
    runtime.start_worker(threads=2)
    background = BackgroundLoop()
    background.start(runtime.relay(background.stop, interval=0.05))
    return runtime, background


async def shutdown(runtime: Runtime, background: BackgroundLoop) -> None:
    await asyncio.to_thread(background.shutdown)
    await asyncio.to_thread(runtime.stop_worker)


@pytest.fixture
async def runtime(settings: Settings, db: Database, broker_url: str) -> AsyncIterator[Runtime]:
    rt, background = await start(replace(settings, broker_url=broker_url), db)
    yield rt
    await shutdown(rt, background)


async def count(db: Database, query: Any) -> int:
    async with db.transaction() as session:
        return int((await session.execute(query)).scalar_one())


def events_of(type_: str) -> Any:
    return select(func.count()).select_from(Event).where(Event.type == type_)


PENDING = select(func.count()).select_from(Delivery).where(col(Delivery.done_at).is_(None))


async def download(client: Any, url: str, headers: dict[str, str]) -> bytes:
    async def ready() -> bytes | None:
        response = await client.get(url, headers=headers)
        assert response.status_code in (200, 202), response.text
        if response.status_code == 202:
            assert response.headers["retry-after"]
            return None
        return bytes(response.content)

    return bytes(await until(ready, what=url))


def table_texts(content: bytes) -> list[list[str]]:
    document = docx.Document(io.BytesIO(content))
    table = document.tables[-1]
    return [[cell.text for cell in row.cells] for row in table.rows]


async def test_closing_a_ballot_builds_the_table_and_report_once_and_tells_the_committee(
    client: Any, clock: Any, db: Database, runtime: Runtime
) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    ballot_id = await w.ballot("DIS")
    for code, position in (("DE", "approve"), ("FR", "approve"), ("JP", "disapprove")):
        await w.vote(ballot_id, code, position, 201, reasons="Scope." if position == "disapprove" else None)
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/FR",
            json={"comments": [{"clause": "10", "type": "te", "comment": "Ten."}, {"clause": "2", "comment": "Two."}]},
            headers=w.headers["FR"],
        ),
        201,
    )
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/DE",
            json={"comments": [{"clause": "General", "type": "ge", "comment": "Fine."}]},
            headers=w.headers["DE"],
        ),
        201,
    )
    await w.close(ballot_id)
    convenor = w.headers["convenor"]
    table = await download(client, f"/api/v1/ballots/{ballot_id}/comment-table.docx", convenor)
    rows = table_texts(table)
    flat = ["\n".join(r) for r in rows]
    order = [next(ref for ref in ("DE-001", "FR-002", "FR-001") if ref in text) for text in flat if "-00" in text]
    assert order == ["DE-001", "FR-002", "FR-001"]  # general first, then clause 2, then clause 10
    report = await download(client, f"/api/v1/ballots/{ballot_id}/report.docx", convenor)
    report_text = "\n".join(p.text for p in docx.Document(io.BytesIO(report)).paragraphs)
    assert "not approved" in report_text.lower() or "approved" in report_text.lower()

    await until(lambda: count(db, events_of("document.generated")), what="document.generated")
    await until(lambda: _zero(db, PENDING), what="every delivery done")
    assert await count(db, events_of("document.generated")) == 2
    assert await count(db, select(func.count()).select_from(Document)) == 2
    assert await count(db, events_of("notification.sent")) >= 2  # opened, closed, documents ready

    # An observation after close makes a new version of the table, built once.
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/observations/FR-001",
            json={"observation": "Agreed.", "disposition": "accepted"},
            headers=convenor,
        )
    )
    await until(lambda: _at_least(db, events_of("document.generated"), 3), what="rebuilt table")
    newer = await download(client, f"/api/v1/ballots/{ballot_id}/comment-table.docx", convenor)
    assert newer != table
    assert any("Accepted" in "\n".join(r) and "Agreed." in "\n".join(r) for r in table_texts(newer))


async def _zero(db: Database, query: Any) -> bool:
    return await count(db, query) == 0


async def _at_least(db: Database, query: Any, n: int) -> bool:
    return await count(db, query) >= n


async def test_a_delivery_handled_twice_has_its_effect_once(client: Any, clock: Any, db: Database) -> None:
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.close(ballot_id)
    async with db.transaction() as session:
        closed = (await session.execute(select(Event.id).where(Event.type == "ballot.closed"))).scalar_one()
    runtime = Runtime(Settings(database_url=db.url), db)
    await asyncio.gather(*(deliver(runtime.context, "collation", closed) for _ in range(3)))
    assert await count(db, events_of("document.requested")) == 2  # one table, one report


@pytest.fixture
def spare_redis() -> Iterator[Callable[[bool], None]]:
    """A Redis server of the test's own, which the test may stop and start."""
    server = shutil.which("redis-server")
    if not server:
        if REQUIRE_BROKERS:
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process: list[subprocess.Popen[bytes]] = []

    def running(up: bool) -> None:
        if up:
            process.append(
                subprocess.Popen(
                    [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                    stdout=subprocess.DEVNULL,
                )
            )
            for _ in range(100):
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        return
                time.sleep(0.05)
            raise AssertionError("spare redis did not start")
        proc = process.pop()
        proc.kill()
        proc.wait()

    running.url = f"redis://127.0.0.1:{port}/0"  # type: ignore[attr-defined]
    running(True)
    yield running
    while process:
        running(False)


async def test_votes_and_a_close_during_a_broker_outage_are_dispatched_once_when_it_returns(
    client: Any, clock: Any, db: Database, settings: Settings, spare_redis: Any
) -> None:
    rt, background = await start(replace(settings, broker_url=spare_redis.url), db)
    try:
        w = await World(client, clock).build(p=["DE", "FR", "JP"])
        ballot_id = await w.ballot("DIS")
        spare_redis(False)
        for code in ("DE", "FR", "JP"):
            await w.vote(ballot_id, code, "approve", 201)
            await ok(
                await client.put(
                    f"/api/v1/ballots/{ballot_id}/comments/{code}",
                    json={"comments": [{"clause": "4", "type": "ed", "comment": f"From {code}."}]},
                    headers=w.headers[code],
                ),
                201,
            )
        await w.close(ballot_id)
        await asyncio.sleep(1.0)
        assert await count(db, PENDING) > 0  # accepted and kept, waiting for the broker
        spare_redis(True)
        await until(lambda: _zero(db, PENDING), timeout=60, what="deliveries after the outage")
        assert await count(db, events_of("document.generated")) == 2
        assert await count(db, select(func.count()).select_from(Document).where(Document.status == "ready")) == 2
        closed_mails = select(func.count()).select_from(Event).where(Event.type == "notification.sent")
        sent = await count(db, closed_mails)
        await asyncio.sleep(0.5)
        assert await count(db, closed_mails) == sent
    finally:
        await shutdown(rt, background)


async def test_mail_goes_to_the_right_people_over_smtp_and_is_retried_when_the_server_is_down(
    client: Any, clock: Any, db: Database, settings: Settings
) -> None:
    from aiosmtpd.controller import Controller

    received: list[tuple[str, list[str], str]] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            subject = next(
                (line[9:] for line in envelope.content.decode().splitlines() if line.startswith("Subject: ")), ""
            )
            received.append((envelope.mail_from, list(envelope.rcpt_tos), subject))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    rt, background = await start(replace(settings, smtp_url=f"smtp://127.0.0.1:{port}"), db)
    try:
        w = await World(client, clock).build(p=["DE", "FR", "JP"])
        ballot_id = await w.ballot("DIS")
        await until(lambda: _received(received, 3), what="ballot-opened mails")
        opened = sorted(r[1][0] for r in received)
        assert opened == ["de@example.org", "fr@example.org", "jp@example.org"]
        assert all("Ballot open" in r[2] for r in received)

        await w.vote(ballot_id, "DE", "approve", 201)
        ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
        from datetime import datetime

        closes = datetime.fromisoformat(ballot["closes_at"].replace("Z", "+00:00"))
        received.clear()
        async with db.transaction() as session:
            assert await deadlines.schedule_reminders(session, closes - timedelta(days=7)) == [(ballot_id, 7)]
        async with db.transaction() as session:
            assert await deadlines.schedule_reminders(session, closes - timedelta(days=7)) == []
        await until(lambda: _received(received, 2), what="reminders")
        assert sorted(r[1][0] for r in received) == ["fr@example.org", "jp@example.org"]  # DE has voted

        smtp.stop()
        received.clear()
        await ok(
            await client.post(
                f"/api/v1/ballots/{ballot_id}/extend",
                json={"closes_at": (closes + timedelta(days=7)).isoformat()},
                headers=w.headers["secretary"],
            )
        )
        await until(lambda: count(db, events_of("notification.failed")), what="a recorded failure")
        smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
        smtp.start()
        await until(lambda: _received(received, 3), timeout=60, what="mails after SMTP came back")
        assert all("Deadline changed" in r[2] for r in received)
    finally:
        await shutdown(rt, background)
        smtp.stop()


async def _received(received: list[Any], n: int) -> bool:
    return len(received) >= n
