"""Webhooks (issue #15 §1–4) against a real HTTP receiver started here, on SQLite and PostgreSQL.

The worker's two steps are driven by hand so time can be moved: the sealer round (chain, then
fan-out) and the sender round (claim, POST, record).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlmodel import select
from standardwebhooks import Webhook as Verifier

from schemas.tables import Event, Webhook
from schemas.types import utcnow
from services.platform import webhook_http
from services.platform.db import Database
from services.platform.settings import Settings
from services.usecases import ledger, webhooks
from tests.world import ADMIN, World, ok
from workers import webhook_sender

LOCAL = webhook_http.Policy(https_only=False, allow_loopback=True, allow_private=False)


class Receiver:
    """An HTTP server on loopback that records each request and answers from a script."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.script.pop(0) if receiver.script else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/ballotdesk"

    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def rounds(db: Database, *, at: Any = None, policy: webhook_http.Policy = LOCAL) -> int:
    """One sealer round and one sender round; returns how many POSTs were made."""
    await ledger.seal(db)
    async with db.transaction() as session:
        await webhooks.fan_out(session, utcnow())
    now = at or utcnow()
    jobs = await webhooks.claim_due(db, now)
    for job in jobs:
        await webhooks.record_outcome(db, job, await webhook_sender.send(job, policy), now)
    return len(jobs)


async def test_events_arrive_signed_and_secrets_are_never_listed(
    client: Any, clock: Any, db: Database, receiver: Receiver
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    made = await ok(
        await client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["ballot.", "vote.cast"]}, headers=ADMIN
        ),
        201,
    )
    secret = made["secret"]
    assert secret.startswith("whsec_")
    listed = await ok(await client.get("/api/v1/webhooks", headers=ADMIN))
    one = await ok(await client.get(f"/api/v1/webhooks/{made['id']}", headers=ADMIN))
    assert secret not in json.dumps(listed) + json.dumps(one)
    async with db.read() as session:
        stored = (await session.execute(select(Webhook))).scalar_one()
        logged = " ".join(json.dumps(e.payload) for e in (await session.execute(select(Event))).scalars())
    assert secret not in stored.secret and secret not in logged  # encrypted at rest, never in the log

    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve")
    await rounds(db)
    assert receiver.types() == ["ballot.created", "ballot.opened", "vote.cast"]
    verifier = Verifier(secret)
    for headers, body in receiver.received:
        verified = verifier.verify(body, headers)
        assert verified["data"]["id"] > 0 and verified["data"]["type"] == verified["type"]
    ids = [h["webhook-id"] for h, _ in receiver.received]
    assert len(set(ids)) == 3
    # Nothing new: nothing sent again.
    assert await rounds(db) == 0 and len(receiver.received) == 3


async def test_a_failing_receiver_gets_the_same_id_again_and_one_success(
    client: Any, clock: Any, db: Database, receiver: Receiver
) -> None:
    w = await World(client, clock).build(p=["DE"])
    made = await ok(await client.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["ballot.opened"]},
                                      headers=ADMIN), 201)  # fmt: skip
    receiver.script = [500]
    await w.ballot("DIS")
    assert await rounds(db) == 1
    assert await rounds(db) == 0  # the retry is not due yet
    assert await rounds(db, at=utcnow() + timedelta(seconds=6)) == 1
    assert [h["webhook-id"] for h, _ in receiver.received] == [receiver.received[0][0]["webhook-id"]] * 2
    attempts = await ok(await client.get(f"/api/v1/webhooks/{made['id']}/deliveries", headers=ADMIN))
    assert [(a["status_code"], a["delivery_status"]) for a in attempts] == [(204, "succeeded"), (500, "succeeded")]
    assert attempts[1]["next_attempt_at"] is not None and attempts[1]["error"] == "answered 500"


async def test_a_receiver_down_gets_every_event_once_it_is_back(client: Any, clock: Any, db: Database) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/in"
    w = await World(client, clock).build(p=["DE", "FR"])
    await ok(await client.post("/api/v1/webhooks", json={"url": url}, headers=ADMIN), 201)
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve")
    await w.vote(ballot_id, "FR", "approve")
    first = await rounds(db)
    assert first >= 4  # all refused: nobody listens
    back = Receiver(port)
    try:
        later = utcnow() + timedelta(seconds=6)
        assert await rounds(db, at=later) == first
        assert sorted(back.types()).count("vote.cast") == 2
        assert await rounds(db, at=later + timedelta(hours=1)) == 0  # delivered once each
    finally:
        back.close()


async def test_a_webhook_failing_for_a_day_is_disabled_and_its_owner_told(
    client: Any, clock: Any, db: Database, receiver: Receiver
) -> None:
    w = await World(client, clock).build(p=["DE"])
    made = await ok(await client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=ADMIN), 201)
    receiver.script = [503] * 20
    await w.ballot("DIS")
    start = utcnow()
    assert await rounds(db, at=start + timedelta(seconds=1)) >= 2
    for hours in (1, 5, 12, 25):
        await rounds(db, at=start + timedelta(hours=hours))
    hook = await ok(await client.get(f"/api/v1/webhooks/{made['id']}", headers=ADMIN))
    assert hook["active"] is False and hook["disabled_at"] is not None
    async with db.read() as session:
        disabled = (await session.execute(select(Event).where(Event.type == "webhook.disabled"))).scalars().all()
    assert len(disabled) == 1 and "no delivery succeeded since" in disabled[0].payload["reason"]
    assert await rounds(db, at=start + timedelta(days=3)) == 0


async def test_a_delegates_webhook_never_carries_another_bodys_vote_while_open(
    client: Any, clock: Any, db: Database, receiver: Receiver
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    await ok(await client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=w.headers["DE"]), 201)
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve")
    await w.vote(ballot_id, "FR", "disapprove", reasons="Clause 5 conflicts with ISO 9001.")
    await rounds(db)
    bodies = [json.loads(b)["data"]["payload"].get("body") for _, b in receiver.received]
    assert "FR" not in bodies and "DE" in bodies
    assert {"ballot.created", "ballot.opened"} <= set(receiver.types())


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.org/hook", "must use https"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://10.1.2.3/hook", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://[::ffff:192.168.1.1]/hook", "not a public address"),
        ("https://user:pw@example.org/hook", "user name or password"),
    ],
)
async def test_production_refuses_private_and_plain_addresses(url: str, problem: str) -> None:
    policy = webhook_http.Policy.of(Settings(environment="production"))
    with pytest.raises(webhook_http.Refused, match=problem):
        await webhook_http.checked_addresses(url, policy)
    lifted = webhook_http.Policy.of(Settings(environment="production", webhook_allow_private=True))
    if "user name" not in problem and "example.org" not in url:
        assert await webhook_http.checked_addresses(url, lifted)


async def test_registration_refuses_a_private_url_in_words(client: Any, clock: Any) -> None:
    await World(client, clock).build(p=["DE"])
    refused = await client.post("/api/v1/webhooks", json={"url": "ftp://127.0.0.1/x"}, headers=ADMIN)
    assert refused.status_code == 422 and "https://" in refused.json()["detail"]


async def test_who_may_register(client: Any, clock: Any, receiver: Receiver) -> None:
    w = await World(client, clock).build(p=["DE"])
    mine = {"url": receiver.url, "committee_id": w.committee_id}
    assert (await client.post("/api/v1/webhooks", json=mine, headers=w.headers["secretary"])).status_code == 201
    without = await client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=w.headers["secretary"])
    assert without.status_code == 403
    assert (await client.post("/api/v1/webhooks", json=mine, headers=w.headers["convenor"])).status_code == 403
    # Each sees and deletes only their own.
    theirs = await ok(await client.get("/api/v1/webhooks", headers=w.headers["DE"]))
    assert theirs == []
    hook_id = (await ok(await client.get("/api/v1/webhooks", headers=w.headers["secretary"])))[0]["id"]
    assert (await client.delete(f"/api/v1/webhooks/{hook_id}", headers=w.headers["DE"])).status_code == 404
    assert (await client.delete(f"/api/v1/webhooks/{hook_id}", headers=w.headers["secretary"])).status_code == 204
    assert await ok(await client.get("/api/v1/webhooks", headers=w.headers["secretary"])) == []


async def test_a_delegate_reads_its_bodys_events_and_others_only_after_close(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"], others=["US"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve")
    await w.vote(ballot_id, "FR", "disapprove", reasons="Clause 5 conflicts with ISO 9001.")

    async def seen(who: str) -> list[tuple[str, Any]]:
        page = await ok(await client.get("/api/v1/events?limit=1000", headers=w.headers[who]))
        return [(e["type"], e["payload"].get("body")) for e in page["items"]]

    de = await seen("DE")
    assert ("vote.cast", "DE") in de and ("vote.cast", "FR") not in de
    assert ("ballot.opened", None) in de
    assert await seen("US") == [] or all(t.startswith("ballot.") for t, _ in await seen("US"))
    officer = await seen("secretary")
    assert ("vote.cast", "FR") in officer and ("vote.cast", "DE") in officer
    await w.close(ballot_id)
    assert ("vote.cast", "FR") in await seen("DE")


async def test_sealers_in_several_processes_write_the_fan_out_cursor_once(db: Database) -> None:
    # As two schedulers' sealers do at their first round on a fresh database.
    async def fan_out() -> int:
        async with db.transaction() as session:
            return await webhooks.fan_out(session, utcnow())

    assert await asyncio.gather(*(fan_out() for _ in range(4))) == [0, 0, 0, 0]
