"""Web sessions end (#12 item 3), on both databases: sign-out, a password change and an
administrator's revocation end a session at once, wherever its cookie was copied; a session has an
absolute end that requests do not push back, and an idle end.

The attack first: a cookie copied before sign-out used to sign in for ever (the cookie was the
whole session, and its expiry slid with every request).
"""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from schemas.tables import WebSession
from services.http.app import create_app
from services.platform.db import Database
from services.platform.settings import Settings
from tests.conftest import Clock
from tests.integration.test_web_pages import PASSWORD, committee, sign_in, token
from tests.world import ADMIN, ok

COOKIE = "ballotdesk_session"


def _signed_in(response: Any) -> bool:
    return response.status_code == 200


async def _home(client: Any) -> Any:
    return await client.get("/", follow_redirects=False)


def _copy(client: Any) -> str:
    value = client.cookies.get(COOKIE)
    assert value
    return str(value)


def _use(client: Any, cookie: str) -> None:
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie)


async def _sign_out(client: Any) -> None:
    page = await client.get("/")
    response = await client.post("/logout", data={"_csrf": token(page.text)}, follow_redirects=False)
    assert response.status_code == 303


async def test_a_cookie_copied_before_sign_out_no_longer_signs_in(client: Any, clock: Clock, db: Database) -> None:
    _, emails = await committee(client, clock)
    assert (await sign_in(client, emails["DE"])).status_code == 303
    stolen = _copy(client)
    await _sign_out(client)
    _use(client, stolen)
    replayed = await _home(client)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/login")
    async with db.read() as session:
        rows = list((await session.execute(select(WebSession))).scalars())
    # The table holds the session's hash and its end, never the id the cookie carries.
    assert len(rows) == 1 and rows[0].revoked_at == clock.now and len(rows[0].id_hash) == 64


async def test_a_session_ends_at_its_absolute_end_however_busy(client: Any, clock: Clock) -> None:
    _, emails = await committee(client, clock)
    await sign_in(client, emails["DE"])
    for _ in range(23):  # a request every half hour for eleven and a half hours
        clock.advance(minutes=30)
        assert _signed_in(await _home(client))
    clock.advance(minutes=30)  # twelve hours after sign-in
    assert (await _home(client)).status_code == 303


async def test_an_idle_session_ends(client: Any, clock: Clock) -> None:
    _, emails = await committee(client, clock)
    await sign_in(client, emails["DE"])
    clock.advance(minutes=59)
    assert _signed_in(await _home(client))  # and this request counts as activity
    clock.advance(minutes=59)
    assert _signed_in(await _home(client))
    clock.advance(minutes=60)
    assert (await _home(client)).status_code == 303


async def test_the_lifetimes_are_settings(settings: Settings, db: Database, clock: Clock, client: Any) -> None:
    _, emails = await committee(client, clock)
    short = Settings(
        database_url=settings.database_url, admin_token=settings.admin_token, session_hours=1, session_idle_minutes=10
    )
    async with AsyncTestClient(app=create_app(short, db=db, clock=clock)) as other:
        await sign_in(other, emails["DE"])
        clock.advance(minutes=11)
        assert (await _home(other)).status_code == 303
        await sign_in(other, emails["DE"])
        for _ in range(6):
            clock.advance(minutes=9)
            assert _signed_in(await _home(other))
        clock.advance(minutes=7)  # 61 minutes after sign-in
        assert (await _home(other)).status_code == 303


async def _change(client: Any, current: str, new: str, again: str | None = None) -> Any:
    form = await client.get("/account/password")
    assert form.status_code == 200 and "Current password" in form.text
    data = {"current_password": current, "password": new, "password_again": new if again is None else again}
    return await client.post("/account/password", data={**data, "_csrf": token(form.text)}, follow_redirects=False)


async def test_a_password_change_needs_the_current_one_and_ends_every_other_session(
    settings: Settings, db: Database, clock: Clock, client: Any
) -> None:
    _, emails = await committee(client, clock)
    await sign_in(client, emails["DE"])
    async with AsyncTestClient(app=create_app(settings, db=db, clock=clock)) as laptop:
        await sign_in(laptop, emails["DE"])
        assert _signed_in(await _home(laptop))

        wrong = await _change(client, "not my password", "a brand new password")
        assert wrong.status_code == 422 and "This is not your current password." in wrong.text
        mismatch = await _change(client, PASSWORD, "a brand new password", "another new password")
        assert mismatch.status_code == 422 and "not the same" in mismatch.text
        short = await _change(client, PASSWORD, "short")
        assert short.status_code == 422 and "10 to 200 characters" in short.text
        assert _signed_in(await _home(laptop))  # nothing changed so far

        changed = await _change(client, PASSWORD, "a brand new password")
        assert changed.status_code == 303
        assert _signed_in(await _home(client))  # the session that changed it goes on
        assert (await _home(laptop)).status_code == 303  # every other one ended at once
        assert (await sign_in(laptop, emails["DE"])).status_code == 422
        assert (await sign_in(laptop, emails["DE"], "a brand new password")).status_code == 303


async def test_an_administrator_ends_a_persons_sessions_in_one_call(
    settings: Settings, db: Database, clock: Clock, client: Any
) -> None:
    w, emails = await committee(client, clock)
    await sign_in(client, emails["DE"])
    stolen = _copy(client)
    async with db.read() as session:
        user_id = (await session.execute(select(WebSession.user_id))).scalar_one()
    url = f"/api/v1/users/{user_id}/sessions/revoke"
    for refused_by, status in ((w.headers["DE"], 403), (w.headers["secretary"], 403), ({}, 401)):
        refused = await client.post(url, headers=refused_by)
        assert refused.status_code == status and refused.headers["content-type"].startswith("application/problem+json")
        assert _signed_in(await _home(client))
    ended = await ok(await client.post(url, headers=ADMIN))
    assert ended == {"revoked": 1}
    assert (await _home(client)).status_code == 303
    _use(client, stolen)
    assert (await _home(client)).status_code == 303
    events = await ok(await client.get("/api/v1/events", params={"type": "user.sessions_ended"}, headers=ADMIN))
    assert [e["payload"]["sessions"] for e in events["items"]] == [1]
