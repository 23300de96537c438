"""Production for real: `ballotdesk migrate`, two `ballotdesk api` processes, two `ballotdesk worker`
processes and two `ballotdesk scheduler` processes on PostgreSQL with Redis, then with RabbitMQ.

A complete ballot goes through both APIs alternately: committee, users, a DIS opened 10 days
before its deadline (so a reminder is due), votes, comments typed and uploaded as a filled
template, the deadline reached by time (a scheduler closes the ballot), the table and the report
built, an observation after close (a second version of the table). Then: one result, one table
per version, every delivery done once, each e-mail sent once, nothing left in the outbox, no 5xx,
and the request id of the observation followed into the worker that handled it.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, update
from sqlmodel import col, select

from schemas.tables import Ballot, Delivery, Document, Event
from services.platform.db import Database
from services.platform.settings import Settings
from tests import processes
from tests.conftest import ADMIN_TOKEN, Clock
from tests.docx_factory import comment_docx, row8
from tests.world import World, iso, ok
from workers.runtime import Runtime

POSTGRES_URL = os.environ.get("BALLOTDESK_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("BALLOTDESK_TEST_REDIS_URL", "")
AMQP_URL = os.environ.get("BALLOTDESK_TEST_AMQP_URL", "")
REQUIRED = os.environ.get("BALLOTDESK_REQUIRE_SERVICES") == "1"
# Ports of this test's servers; BALLOTDESK_TEST_PORT_BASE moves them (10 ports from the base).
PORT_BASE = int(os.environ.get("BALLOTDESK_TEST_PORT_BASE", "18250"))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DEADLINE_SECONDS = 25
OBSERVATION_ID = "prod-observation-0001"


def _need(url: str, what: str, variable: str) -> str:
    if not url:
        if REQUIRED:
            pytest.fail(f"{what} is required in CI: set {variable}")
        pytest.skip(f"{what} not configured ({variable})")
    return url


@pytest.fixture
async def database_url() -> str:
    base = _need(POSTGRES_URL, "PostgreSQL", "BALLOTDESK_TEST_POSTGRES_URL")
    try:
        return await processes.fresh_postgres_database(base, "production")
    except OSError as exc:
        if REQUIRED:
            pytest.fail(f"PostgreSQL is required but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        return _need(REDIS_URL, "Redis", "BALLOTDESK_TEST_REDIS_URL")
    return _need(AMQP_URL, "RabbitMQ", "BALLOTDESK_TEST_AMQP_URL")


@dataclass
class Mailbox:
    """An SMTP server on a port of the test's: every message it accepted."""

    port: int
    received: list[tuple[str, str]] = field(default_factory=list)  # (recipient, subject)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        lines = envelope.content.decode(errors="replace").splitlines()
        subject = next((line[9:] for line in lines if line.startswith("Subject: ")), "")
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, subject))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox(port=PORT_BASE + 9)
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


class Alternating:
    """An HTTP client that sends each request to the next API process in turn, and keeps every
    status it saw (a 5xx anywhere fails the test)."""

    def __init__(self, urls: list[str]) -> None:
        self.clients = [httpx.AsyncClient(base_url=u, timeout=60) for u in urls]
        self.turn = 0
        self.seen: list[tuple[str, str, str, int]] = []

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        client = self.clients[self.turn % len(self.clients)]
        self.turn += 1
        response = await client.request(method, url, **kwargs)
        self.seen.append((str(client.base_url), method, url, response.status_code))
        return response

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, **kwargs)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


async def until(check: Callable[[], Awaitable[Any]], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


async def scalar(db: Database, query: Any) -> Any:
    async with db.transaction() as session:
        return (await session.execute(query)).scalar_one()


def count_of(event_type: str) -> Any:
    return select(func.count()).select_from(Event).where(Event.type == event_type)


PENDING = select(func.count()).select_from(Delivery).where(col(Delivery.done_at).is_(None))


def _purge(broker_url: str, database_url: str) -> None:
    """Queues start empty: messages of an earlier run name events this database never had."""
    runtime = Runtime(Settings(database_url=database_url, broker_url=broker_url))
    try:
        runtime.broker.flush_all()
    finally:
        runtime.broker.close()


@pytest.fixture
async def cluster(
    database_url: str, broker_url: str, mailbox: Mailbox, tmp_path: Path
) -> AsyncIterator[tuple[dict[str, str], list[processes.Process]]]:
    env = processes.environment(
        database_url,
        broker_url=broker_url,
        smtp_url=f"smtp://127.0.0.1:{mailbox.port}",
        admin_token=ADMIN_TOKEN,  # the token tests.world's helpers use
        extra={"BALLOTDESK_PUBLIC_URL": "https://ballots.example.org"},
    )
    processes.migrate(env)
    await asyncio.to_thread(_purge, broker_url, database_url)
    logs = tmp_path / "logs"
    with processes.stopped_at_exit() as started:
        started.append(processes.start_api(env, PORT_BASE, logs))
        started.append(processes.start_api(env, PORT_BASE + 1, logs))
        started.extend(processes.start_worker(env, logs, processes=1, threads=2) for _ in range(2))
        started.extend(processes.start_scheduler(env, logs, interval=1.0) for _ in range(2))
        for process in started:
            await asyncio.to_thread(processes.wait_ready, process)
        yield env, started


async def test_a_ballot_through_two_apis_two_workers_and_two_schedulers_has_every_effect_once(
    cluster: tuple[dict[str, str], list[processes.Process]], database_url: str, mailbox: Mailbox
) -> None:
    _, started = cluster
    apis = [p for p in started if p.role == "api"]
    client = Alternating([p.url for p in apis])
    db = Database(database_url)
    try:
        tokens = await _scenario(client, db, mailbox)
    finally:
        await client.aclose()
        await db.dispose()

    # Graceful stop: every process ends on SIGTERM with status 0, the API processes having
    # answered everything (the 5xx check above covers what they answered).
    for process in reversed(started):
        assert processes.stop(process) == 0, f"{process} exited badly:\n{process.tail()}"
    for process in started:
        log = process.log()
        assert '"level": "error"' not in log, f"{process} logged an error:\n{process.tail(80)}"
        assert "Traceback" not in log, f"{process} logged a traceback:\n{process.tail(80)}"
        leaked = [t for t in [ADMIN_TOKEN, *tokens] if t in log]
        assert not leaked, f"{process} logged a token"

    # The observation's request id, from the API into the workers that handled its effects.
    handled = [
        entry
        for process in started
        if process.role == "worker"
        for entry in _json_lines(process.log())
        if entry.get("request_id") == OBSERVATION_ID
    ]
    messages = " | ".join(e["msg"] for e in handled)
    assert "collation handled event" in messages and "builder handled event" in messages, messages


def _json_lines(log: str) -> Iterator[dict[str, Any]]:
    for line in log.splitlines():
        if line.startswith("{"):
            yield json.loads(line)


async def _scenario(client: Alternating, db: Database, mailbox: Mailbox) -> list[str]:
    """Drives the ballot; returns the API tokens it used (none may appear in any log)."""
    clock = Clock(now=datetime.now(UTC))
    w = await World(client, clock).build(p=["DE", "FR", "JP", "GB"])  # type: ignore[arg-type]
    sec, convenor = w.headers["secretary"], w.headers["convenor"]
    closes_at = datetime.now(UTC) + timedelta(seconds=DEADLINE_SECONDS)
    ballot = await ok(
        await client.post(
            "/api/v1/ballots",
            json={"project_id": w.project_id, "type": "DIS", "closes_at": iso(closes_at)},
            headers=sec,
        ),
        201,
    )
    ballot_id = ballot["id"]
    await ok(await client.post(f"/api/v1/ballots/{ballot_id}/open", headers=sec))
    # The ballot has run for ten days in this story: a 3-day reminder is due at the next sweep.
    async with db.transaction() as session:
        await session.execute(
            update(Ballot).where(col(Ballot.id) == ballot_id).values(opened_at=datetime.now(UTC) - timedelta(days=10))
        )

    def reminders() -> list[tuple[str, str]]:
        return [m for m in mailbox.received if "Reminder" in m[1]]

    async def four_reminders() -> bool:
        return len(reminders()) >= 4

    await until(four_reminders, 15, "the reminders (every P-member has yet to vote)")

    reasons = {"JP": "Clause 4 conflicts with ISO 9001."}
    for code, position in (("DE", "approve"), ("FR", "approve"), ("JP", "disapprove"), ("GB", "abstain")):
        body = {"position": position, **({"reasons": reasons[code]} if code in reasons else {})}
        await ok(await client.put(f"/api/v1/ballots/{ballot_id}/votes/{code}", json=body, headers=w.headers[code]), 201)
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/FR",
            json={"comments": [{"clause": "10", "type": "te", "comment": "Ten."}, {"clause": "2", "comment": "Two."}]},
            headers=w.headers["FR"],
        ),
        201,
    )
    template = comment_docx(
        [
            row8("JP-1", "12", "4.1", "", "TE", "Conflicts with ISO 9001.", "Align the terms."),
            row8("", "", "General", "", "Ed.", "Typos throughout."),
        ]
    )
    await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/comments/JP/upload",
            files={"file": ("comments.docx", template, DOCX)},
            headers=w.headers["JP"],
        ),
        201,
    )
    assert datetime.now(UTC) < closes_at, "the set-up took longer than the ballot lasts; raise DEADLINE_SECONDS"

    # Nobody closes the ballot: its deadline passes and a scheduler closes it.
    async def closed() -> Any:
        state = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=sec))
        return state if state["status"] == "closed" else None

    state = await until(closed, DEADLINE_SECONDS + 30, "the ballot to close at its deadline")
    assert state["result"] is not None

    table = await _download(client, f"/api/v1/ballots/{ballot_id}/comment-table.docx", convenor)
    report = await _download(client, f"/api/v1/ballots/{ballot_id}/report.docx", convenor)
    assert table[:2] == b"PK" and report[:2] == b"PK"

    # After close, an observation makes a second version of the table.
    first_table_id = await scalar(db, select(func.max(Document.id)).where(Document.kind == "comment_table"))
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/observations/FR-001",
            json={"observation": "Agreed.", "disposition": "accepted"},
            headers={**convenor, "X-Request-ID": OBSERVATION_ID},
        )
    )

    async def second_version() -> bool:
        newest = await scalar(
            db,
            select(func.max(Document.id)).where(Document.kind == "comment_table", Document.status == "ready"),
        )
        return bool(newest and newest > first_table_id)

    await until(second_version, 60, "the second version of the table")
    await until(lambda: _zero(db, PENDING), 60, "every delivery done")
    await asyncio.sleep(2.0)  # a duplicate would show up now, if there were one

    await _assert_every_effect_once(db, mailbox, ballot_id)
    failures = [s for s in client.seen if s[3] >= 500]
    assert not failures, failures
    served = collections.Counter(s[0] for s in client.seen)
    assert len(served) == 2 and min(served.values()) > 20, served
    return [h["Authorization"].split()[1] for h in w.headers.values()]


async def _download(client: Alternating, url: str, headers: dict[str, str]) -> bytes:
    async def ready() -> bytes | None:
        response = await client.get(url, headers=headers)
        assert response.status_code in (200, 202), response.text
        return response.content if response.status_code == 200 else None

    return bytes(await until(ready, 60, url))


async def _zero(db: Database, query: Any) -> bool:
    return int(await scalar(db, query)) == 0


async def _assert_every_effect_once(db: Database, mailbox: Mailbox, ballot_id: int) -> None:
    assert await scalar(db, count_of("ballot.closed")) == 1
    assert await scalar(db, select(func.count()).select_from(Ballot).where(col(Ballot.result).is_not(None))) == 1
    assert await scalar(db, count_of("ballot.reminder_due")) == 1

    async with db.transaction() as session:
        deliveries = list((await session.execute(select(Delivery))).scalars())
        documents = list((await session.execute(select(Document).where(Document.ballot_id == ballot_id))).scalars())
        sent = [
            e.payload for e in (await session.execute(select(Event).where(Event.type == "notification.sent"))).scalars()
        ]
        generated_count = int((await session.execute(count_of("document.generated"))).scalar_one())
        traced = list(
            (
                await session.execute(
                    select(Event.type).where(Event.request_id == OBSERVATION_ID).order_by(col(Event.id))
                )
            ).scalars()
        )

    assert deliveries and all(d.done_at is not None for d in deliveries), "the outbox is not empty"
    assert all(d.attempts >= 1 for d in deliveries)

    # One document per (kind, variant, version): the clause table twice (close, observation), one report.
    versions = collections.Counter((d.kind, d.variant, d.source_event_id) for d in documents)
    assert all(n == 1 for n in versions.values()), versions
    kinds = collections.Counter((d.kind, d.variant) for d in documents)
    assert kinds == {("comment_table", "clause"): 2, ("report", ""): 1}, kinds
    assert all(d.status == "ready" and d.content for d in documents)
    assert generated_count == len(documents)  # each built once

    # Each e-mail once: one notification per cause, and the server got exactly what they announced.
    causes = collections.Counter(p["cause_event_id"] for p in sent)
    assert all(n == 1 for n in causes.values()), causes
    assert len(mailbox.received) == sum(int(p["recipients"]) for p in sent)
    reminders = collections.Counter(r for r, subject in mailbox.received if "Reminder" in subject)
    assert sorted(reminders) == ["de@example.org", "fr@example.org", "gb@example.org", "jp@example.org"]
    assert set(reminders.values()) == {1}

    # The observation's request id is on its event and on the events the workers recorded for it.
    assert traced[:3] == ["comment.observation_recorded", "document.requested", "document.generated"], traced


async def test_an_api_process_finishes_the_request_in_flight_when_told_to_stop(
    database_url: str, tmp_path: Path
) -> None:
    """SIGTERM while a request is half sent: the server stops taking connections but answers it."""
    env = processes.environment(database_url, broker_url=_need(REDIS_URL, "Redis", "BALLOTDESK_TEST_REDIS_URL"))
    processes.migrate(env)
    api = processes.start_api(env, PORT_BASE + 2, tmp_path, workers=2)
    with processes.stopped_at_exit(api):
        await asyncio.to_thread(processes.wait_ready, api)
        body = json.dumps({"code": "DE", "acronym": "DIN", "name": "Deutsches Institut"}).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
        head = (
            f"POST /api/v1/member-bodies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {processes.ADMIN_TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body[:10])
        await writer.drain()
        await asyncio.sleep(0.5)
        api.popen.send_signal(signal.SIGTERM)
        await asyncio.sleep(1.0)
        assert api.running(), "the server quit with a request in flight"
        writer.write(body[10:])
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=20)
        writer.close()
        assert status_line.startswith(b"HTTP/1.1 201"), status_line
        assert await asyncio.to_thread(api.popen.wait, 30) == 0
    db = Database(database_url)
    try:
        assert await scalar(db, count_of("member_body.created")) == 1
    finally:
        await db.dispose()
