"""Sign-in throttling (#12 item 10) and passwords checked off the loop and outside transactions
(#12 item 4), on both databases.

The attacks first: five wrong passwords from anywhere used to lock the owner out for fifteen
minutes, the count lived in one process and per e-mail only, spraying one password over many
accounts was not slowed, and the table was wiped after 10,001 addresses. Now the attempts are rows
every process counts, per account and per address, with waits that grow and then let the right
password in.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from schemas.tables import LoginAttempt
from services.http.app import create_app
from services.platform import identity
from services.platform.db import Database
from services.platform.settings import Settings
from services.rules import login_throttle
from services.rules.errors import NotAuthenticated, TooManyAttempts
from services.usecases import sign_in
from tests.conftest import Clock
from tests.integration.test_web_pages import PASSWORD, committee
from tests.integration.test_web_pages import sign_in as sign_in_page
from tests.world import ADMIN, ok

HOURS = timedelta(hours=12)


async def _try(db: Database, clock: Clock, email: str, password: str, address: str) -> str:
    """'ok', 'wrong' or 'wait N'."""
    try:
        await sign_in.sign_in(db, email, password, address, clock.now, HOURS)
        return "ok"
    except NotAuthenticated:
        return "wrong"
    except TooManyAttempts as exc:
        return f"wait {exc.retry_after}"


async def test_the_owner_signs_in_once_the_wait_after_someone_elses_guesses_has_passed(
    client: Any, db: Database, clock: Clock
) -> None:
    _, emails = await committee(client, clock)
    de = emails["DE"]
    outcomes = [await _try(db, clock, de, f"guess {n}", "203.0.113.9") for n in range(5)]
    assert outcomes == ["wrong"] * 5
    # Waits, not a lock-out: the owner from elsewhere waits as long as the guesser does …
    assert await _try(db, clock, de, PASSWORD, "198.51.100.1") == "wait 30"
    clock.advance(seconds=30)
    # … and is let in when it is over, with the right password (a wrong one makes the wait double).
    assert await _try(db, clock, de, PASSWORD, "198.51.100.1") == "ok"

    # After the owner's success the guesser starts again from nothing, and the waits grow.
    waits = []
    for n in range(8):
        result = await _try(db, clock, de, f"again {n}", "203.0.113.9")
        while result.startswith("wait"):
            waits.append(int(result.split()[1]))
            clock.advance(seconds=int(result.split()[1]))
            result = await _try(db, clock, de, f"again {n}", "203.0.113.9")
        assert result == "wrong"
    assert waits == [30, 60, 120]
    assert login_throttle.wait_after(40, 5) == timedelta(minutes=15)  # capped

    # The address the owner signed in from is theirs: the guesser's count does not hold it back.
    assert (await _try(db, clock, de, "one more", "203.0.113.9")).startswith("wait")
    assert await _try(db, clock, de, PASSWORD, "198.51.100.1") == "ok"


async def test_spraying_one_password_over_many_accounts_from_one_address_is_slowed(
    client: Any, db: Database, clock: Clock
) -> None:
    _, emails = await committee(client, clock)
    sprayed = [f"person{n}@example.org" for n in range(10)]
    assert [await _try(db, clock, e, "Winter2026!", "192.0.2.7") for e in sprayed] == ["wrong"] * 10
    assert await _try(db, clock, emails["FR"], "Winter2026!", "192.0.2.7") == "wait 30"
    # Others are not held by that address's count.
    assert await _try(db, clock, emails["FR"], PASSWORD, "192.0.2.99") == "ok"


async def test_every_process_counts_the_same_attempts(client: Any, db: Database, clock: Clock) -> None:
    _, emails = await committee(client, clock)
    other_process = Database(db.url)  # its own engines and pool, the same database
    try:
        for n in range(5):
            assert (
                await _try(db if n % 2 else other_process, clock, emails["DE"], f"g{n}", f"198.51.100.{n}") == "wrong"
            )
        assert await _try(other_process, clock, emails["DE"], PASSWORD, "198.51.100.200") == "wait 30"
        assert await _try(db, clock, emails["DE"], PASSWORD, "198.51.100.201") == "wait 30"
    finally:
        await other_process.dispose()


async def test_guesses_sent_at_once_all_count(client: Any, db: Database, clock: Clock) -> None:
    _, emails = await committee(client, clock)
    outcomes = await asyncio.gather(*(_try(db, clock, emails["DE"], f"burst {n}", "203.0.113.50") for n in range(12)))
    assert sorted(outcomes).count("wrong") == 5 and all(o == "wrong" or o.startswith("wait") for o in outcomes)
    async with db.read() as session:
        assert (await session.execute(select(func.count()).select_from(LoginAttempt))).scalar() == 5


async def test_the_sign_in_page_answers_429_with_retry_after(client: Any, clock: Clock) -> None:
    _, emails = await committee(client, clock)
    for _ in range(5):
        assert (await sign_in_page(client, emails["DE"], "wrong password")).status_code == 422
    held = await sign_in_page(client, emails["DE"], PASSWORD)
    assert held.status_code == 429 and held.headers["retry-after"] == "30"
    assert "Wait 30 seconds" in held.text
    clock.advance(seconds=30)
    assert (await sign_in_page(client, emails["DE"], PASSWORD)).status_code == 303


async def test_an_administrator_reads_the_attempts(client: Any, db: Database, clock: Clock) -> None:
    w, emails = await committee(client, clock)
    await _try(db, clock, emails["DE"], "wrong", "203.0.113.9")
    clock.advance(seconds=1)
    await _try(db, clock, emails["DE"], PASSWORD, "198.51.100.1")
    await _try(db, clock, "nobody@example.org", "wrong", "203.0.113.9")
    mine = await ok(await client.get("/api/v1/login-attempts", params={"email": emails["DE"].upper()}, headers=ADMIN))
    assert [(a["address"], a["succeeded"]) for a in mine] == [("198.51.100.1", True), ("203.0.113.9", False)]
    from_there = await ok(await client.get("/api/v1/login-attempts", params={"address": "203.0.113.9"}, headers=ADMIN))
    assert [a["email"] for a in from_there] == ["nobody@example.org", emails["DE"]]
    page = await ok(await client.get("/api/v1/login-attempts", params={"limit": 1}, headers=ADMIN))
    older = await ok(await client.get("/api/v1/login-attempts", params={"before": page[0]["id"]}, headers=ADMIN))
    assert len(page) == 1 and len(older) == 2
    for who, status in ((w.headers["secretary"], 403), (w.headers["DE"], 403), ({}, 401)):
        assert (await client.get("/api/v1/login-attempts", headers=who)).status_code == status


# --- item 4: argon2 in a thread, outside every transaction ------------------------------------


@pytest.fixture
def slow_password_check(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event, list[str]]:
    """Password checks that wait until the test lets them go, recording the thread they ran in."""
    started, release, threads = threading.Event(), threading.Event(), []
    real = identity._verify

    def held(password_hash: str | None, password: str) -> bool:
        threads.append(threading.current_thread().name)
        started.set()
        release.wait(20)
        return real(password_hash, password)

    monkeypatch.setattr(identity, "_verify", held)
    return started, release, threads


async def test_a_vote_is_taken_while_a_password_is_being_checked(
    client: Any,
    settings: Settings,
    db: Database,
    clock: Clock,
    slow_password_check: tuple[threading.Event, threading.Event, list[str]],
) -> None:
    """If argon2 ran on the event loop, nothing below would be answered until it finished; if it
    ran inside a write transaction, the vote would wait for SQLite's write lock."""
    started, release, threads = slow_password_check
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    # litestar's test client runs each request to its end before the next; an ASGI transport on
    # this loop lets the sign-in, /health and the vote run at the same time, as a server would.
    app = create_app(settings, db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as live:
        login = asyncio.create_task(sign_in_page(live, emails["DE"], "a wrong password, slowly"))
        assert await asyncio.to_thread(started.wait, 10)
        began = time.monotonic()
        try:
            assert (await live.get("/health")).status_code == 200
            vote = await live.put(
                f"/api/v1/ballots/{ballot_id}/votes/FR", json={"position": "approve"}, headers=w.headers["FR"]
            )
            answered_within = time.monotonic() - began
            still_checking = not login.done()
        finally:
            release.set()
        assert (await login).status_code == 422
    assert vote.status_code == 201, vote.text
    assert still_checking and answered_within < 5 and threading.main_thread().name not in threads
