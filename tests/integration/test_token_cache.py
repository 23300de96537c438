"""The per-process principal cache: a token's principal is reused for at most
`token_cache_seconds`; a revocation through this process takes effect at once, one made
elsewhere (another API process, a hand-typed UPDATE) within that time; 0 turns the cache off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from schemas.tables import ApiToken
from schemas.types import utcnow
from services.http.app import create_app
from services.platform.db import Database
from services.platform.settings import Settings
from tests.conftest import ADMIN_TOKEN, Clock

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _client(settings: Settings, db: Database, seconds: float) -> AsyncTestClient:  # type: ignore[type-arg]
    # The clock the tokens were issued by (the `client` fixture's): tokens end, 90 days after it.
    return AsyncTestClient(app=create_app(replace(settings, token_cache_seconds=seconds), db=db, clock=Clock()))


@pytest.fixture
async def person(client: Any) -> AsyncIterator[dict[str, Any]]:
    body = {"code": "DE", "acronym": "DIN", "name": "Standards DE"}
    assert (await client.post("/api/v1/member-bodies", json=body, headers=ADMIN)).status_code == 201
    roles = [{"role": "delegate", "member_body": "DE"}]
    new = {"name": "Cached", "email": "cached@example.org", "roles": roles}
    user = (await client.post("/api/v1/users", json=new, headers=ADMIN)).json()
    token = (await client.post(f"/api/v1/users/{user['id']}/tokens", json={}, headers=ADMIN)).json()
    yield {"user": user, "token": token, "headers": {"Authorization": f"Bearer {token['token']}"}}


async def _revoke_elsewhere(db: Database, token_id: int) -> None:
    """What another process's revocation looks like to this one: a committed row, no call here."""
    async with db.transaction() as session:
        await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=utcnow()))  # type: ignore[arg-type]


async def test_a_revocation_elsewhere_takes_effect_within_the_cache_time(
    settings: Settings, db: Database, person: dict[str, Any]
) -> None:
    async with await _client(settings, db, 1.0) as c:
        assert (await c.get("/api/v1/me", headers=person["headers"])).status_code == 200
        await _revoke_elsewhere(db, person["token"]["id"])
        # Still honoured from the cache right after (that is what the cache is for) …
        assert (await c.get("/api/v1/me", headers=person["headers"])).status_code == 200
        await asyncio.sleep(1.1)
        # … and refused once the cache time has passed.
        refused = await c.get("/api/v1/me", headers=person["headers"])
        assert refused.status_code == 401, refused.text
        assert "revoked" in refused.json()["detail"]


async def test_with_no_cache_time_a_revocation_elsewhere_takes_effect_at_once(
    settings: Settings, db: Database, person: dict[str, Any]
) -> None:
    async with await _client(settings, db, 0.0) as c:
        assert (await c.get("/api/v1/me", headers=person["headers"])).status_code == 200
        await _revoke_elsewhere(db, person["token"]["id"])
        assert (await c.get("/api/v1/me", headers=person["headers"])).status_code == 401


async def test_a_revocation_through_this_process_takes_effect_at_once(
    settings: Settings, db: Database, person: dict[str, Any]
) -> None:
    async with await _client(settings, db, 60.0) as c:
        assert (await c.get("/api/v1/me", headers=person["headers"])).status_code == 200
        revoke = await c.delete(f"/api/v1/tokens/{person['token']['id']}", headers=ADMIN)
        assert revoke.status_code == 204, revoke.text
        assert (await c.get("/api/v1/me", headers=person["headers"])).status_code == 401
