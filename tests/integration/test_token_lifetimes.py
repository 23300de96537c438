"""API tokens end and cannot mint tokens (#12 item 5), on both databases.

The attack first: a delegate's token used to create a new token for its owner, which outlived the
first one's revocation; tokens never expired and could not be listed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from services.cli import demo
from services.http.app import create_app
from services.platform.db import Database
from services.platform.settings import Settings
from tests.conftest import Clock
from tests.integration.test_web_pages import committee, sign_in, token
from tests.world import ADMIN, World, bearer, ok

PROBLEM = "application/problem+json"


async def _me(client: Any, headers: dict[str, str]) -> Any:
    return await client.get("/api/v1/me", headers=headers)


async def _user_id(client: Any, headers: dict[str, str]) -> int:
    return int((await ok(await _me(client, headers)))["id"])


async def _event_count(client: Any) -> int:
    return len((await ok(await client.get("/api/v1/events", params={"limit": 1000}, headers=ADMIN)))["items"])


async def test_a_token_cannot_create_tokens_for_anyone(client: Any, clock: Clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    de = w.headers["DE"]
    de_id = await _user_id(client, de)
    before = await _event_count(client)
    minted = await client.post(f"/api/v1/users/{de_id}/tokens", json={"label": "spare"}, headers=de)
    assert minted.status_code == 403 and minted.headers["content-type"].startswith(PROBLEM)
    assert "cannot create tokens" in minted.json()["detail"]
    assert await _event_count(client) == before
    # The admin token still may (the CLI and the deployment's bootstrap use it).
    made = await ok(await client.post(f"/api/v1/users/{de_id}/tokens", json={"label": "ci"}, headers=ADMIN), 201)
    assert made["label"] == "ci" and made["expires_at"]


async def test_a_token_ends_after_its_lifetime(client: Any, clock: Clock) -> None:
    w = await World(client, clock).build(p=["DE"])
    de_id = await _user_id(client, w.headers["DE"])
    default = await ok(await client.post(f"/api/v1/users/{de_id}/tokens", json={}, headers=ADMIN), 201)
    week = await ok(await client.post(f"/api/v1/users/{de_id}/tokens", json={"days": 7}, headers=ADMIN), 201)
    assert default["expires_at"].startswith(str((clock.now + timedelta(days=90)).date()))
    too_long = await client.post(f"/api/v1/users/{de_id}/tokens", json={"days": 366}, headers=ADMIN)
    assert too_long.status_code == 422 and "1 to 365 days" in too_long.json()["detail"]

    clock.advance(days=7, seconds=-1)
    assert (await _me(client, bearer(week["token"]))).status_code == 200
    clock.advance(seconds=1)
    expired = await _me(client, bearer(week["token"]))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert (await _me(client, bearer(default["token"]))).status_code == 200
    clock.advance(days=83)
    assert (await _me(client, bearer(default["token"]))).status_code == 401


async def test_the_lifetimes_are_settings(settings: Settings, db: Database, clock: Clock, client: Any) -> None:
    w = await World(client, clock).build(p=["DE"])
    de_id = await _user_id(client, w.headers["DE"])
    custom = Settings(
        database_url=settings.database_url, admin_token=settings.admin_token, token_days=3, token_max_days=5
    )
    async with AsyncTestClient(app=create_app(custom, db=db, clock=clock)) as other:
        made = await ok(await other.post(f"/api/v1/users/{de_id}/tokens", json={}, headers=ADMIN), 201)
        assert made["expires_at"].startswith(str((clock.now + timedelta(days=3)).date()))
        assert (await other.post(f"/api/v1/users/{de_id}/tokens", json={"days": 6}, headers=ADMIN)).status_code == 422


async def test_tokens_are_listed_without_secrets_to_their_owner_and_admins(client: Any, clock: Clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    de_id = await _user_id(client, w.headers["DE"])
    made = await ok(await client.post(f"/api/v1/users/{de_id}/tokens", json={"label": "laptop"}, headers=ADMIN), 201)
    await ok(await client.delete(f"/api/v1/tokens/{made['id']}", headers=ADMIN), 204)
    for who in (ADMIN, w.headers["DE"]):
        listed = await client.get(f"/api/v1/users/{de_id}/tokens", headers=who)
        assert listed.status_code == 200
        assert made["token"] not in listed.text and "token_hash" not in listed.text
        rows = {t["id"]: t for t in listed.json()}
        assert set(rows[made["id"]]) == {"id", "label", "created_at", "expires_at", "revoked_at", "active"}
        assert rows[made["id"]]["label"] == "laptop" and rows[made["id"]]["active"] is False
        assert any(t["active"] for t in rows.values())  # the World's own token for DE
    for who, status in ((w.headers["FR"], 403), (w.headers["secretary"], 403), ({}, 401)):
        refused = await client.get(f"/api/v1/users/{de_id}/tokens", headers=who)
        assert refused.status_code == status and refused.headers["content-type"].startswith(PROBLEM)


async def test_all_of_a_persons_tokens_are_revoked_in_one_call(client: Any, clock: Clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    de_id = await _user_id(client, w.headers["DE"])
    spare = await ok(await client.post(f"/api/v1/users/{de_id}/tokens", json={}, headers=ADMIN), 201)
    url = f"/api/v1/users/{de_id}/tokens/revoke"
    assert (await client.post(url, headers=w.headers["FR"])).status_code == 403
    assert (await _me(client, bearer(spare["token"]))).status_code == 200
    assert await ok(await client.post(url, headers=w.headers["DE"])) == {"revoked": 2}  # a stolen token's owner
    assert (await _me(client, bearer(spare["token"]))).status_code == 401
    assert (await _me(client, w.headers["DE"])).status_code == 401
    assert await ok(await client.post(url, headers=ADMIN)) == {"revoked": 0}


async def test_a_person_manages_their_tokens_on_a_page(client: Any, clock: Clock) -> None:
    _, emails = await committee(client, clock)
    await sign_in(client, emails["DE"])
    page = await client.get("/account/tokens")
    assert page.status_code == 200 and "You have no tokens." in page.text
    bad = await client.post("/account/tokens", data={"label": "x", "days": "400", "_csrf": token(page.text)})
    assert bad.status_code == 422 and "1 to 365 days" in bad.text
    created = await client.post("/account/tokens", data={"label": "my script", "days": "30", "_csrf": token(page.text)})
    assert created.status_code == 201 and "shown only this once" in created.text
    plain = created.text.split("<code>")[1].split("</code>")[0]
    me = await ok(await _me(client, bearer(plain)))
    assert me["email"] == emails["DE"]
    listed = await ok(await client.get(f"/api/v1/users/{me['id']}/tokens", headers=bearer(plain)))
    assert [(t["label"], t["active"]) for t in listed] == [("my script", True)]
    assert listed[0]["expires_at"].startswith(str((clock.now + timedelta(days=30)).date()))
    again = await client.get("/account/tokens")
    assert plain not in again.text and "my script" in again.text

    # Revoking asks first (no JavaScript: a page with the button), then revokes on the POST only.
    confirm = await client.get(f"/account/tokens/{listed[0]['id']}/revoke")
    assert confirm.status_code == 200 and "Revoke “my script”?" in confirm.text
    assert (await _me(client, bearer(plain))).status_code == 200
    revoked = await client.post(
        f"/account/tokens/{listed[0]['id']}/revoke", data={"_csrf": token(confirm.text)}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert (await _me(client, bearer(plain))).status_code == 401
    forged = await client.post(f"/account/tokens/{listed[0]['id']}/revoke", data={}, follow_redirects=False)
    assert forged.status_code == 403  # CSRF: another site cannot revoke

    # Revoking all of them asks too.
    page = await client.get("/account/tokens")
    for label in ("one", "two"):
        await client.post("/account/tokens", data={"label": label, "days": "", "_csrf": token(page.text)})
    confirm = await client.get("/account/tokens/revoke")
    assert "Revoke all your tokens?" in confirm.text
    done = await client.post("/account/tokens/revoke", data={"_csrf": token(confirm.text)})
    assert done.status_code == 200 and "2 tokens revoked." in done.text


async def test_the_demo_tokens_get_the_default_lifetime_and_work(client: Any, db: Database, clock: Clock) -> None:
    assert await demo.load(db, clock.now)
    issued = await demo.issue_tokens(db, clock.now)
    headers = bearer(issued[0][1])
    me = await ok(await _me(client, headers))
    listed = await ok(await client.get(f"/api/v1/users/{me['id']}/tokens", headers=headers))
    assert listed[0]["expires_at"].startswith(str((clock.now + timedelta(days=90)).date()))
