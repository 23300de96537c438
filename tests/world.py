"""A committee built through the public API, as a client would, for the HTTP tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import ADMIN_TOKEN, Clock

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json() if response.content else None


@dataclass
class World:
    client: AsyncTestClient  # type: ignore[type-arg]
    clock: Clock
    committee_id: int = 0
    project_id: int = 0
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    async def body(self, code: str) -> None:
        await ok(
            await self.client.post(
                "/api/v1/member-bodies",
                json={"code": code, "acronym": f"{code}SI", "name": f"Standards {code}"},
                headers=ADMIN,
            ),
            201,
        )

    async def user(self, key: str, roles: list[dict[str, Any]]) -> dict[str, str]:
        user = await ok(
            await self.client.post(
                "/api/v1/users",
                json={"name": key, "email": f"{key.lower()}@example.org", "roles": roles},
                headers=ADMIN,
            ),
            201,
        )
        token = await ok(
            await self.client.post(f"/api/v1/users/{user['id']}/tokens", json={"days": 365}, headers=ADMIN), 201
        )
        self.headers[key] = bearer(token["token"])
        return self.headers[key]

    async def build(
        self,
        p: list[str],
        o: list[str] | None = None,
        others: list[str] | None = None,
        deliverable: str = "IS",
        stage: str = "40.00",
        reference: str = "ISO 99001",
    ) -> World:
        o = o or []
        others = others or []
        for code in [*p, *o, *others]:
            await self.body(code)
        committee = await ok(
            await self.client.post(
                "/api/v1/committees", json={"reference": "ISO/TC 999", "title": "Testing"}, headers=ADMIN
            ),
            201,
        )
        self.committee_id = committee["id"]
        await self.user("secretary", [{"role": "secretary", "committee_id": self.committee_id}])
        await self.user("convenor", [{"role": "convenor", "committee_id": self.committee_id}])
        sec = self.headers["secretary"]
        for code in p:
            await ok(
                await self.client.put(
                    f"/api/v1/committees/{self.committee_id}/members/{code}", json={"status": "P"}, headers=sec
                )
            )
        for code in o:
            await ok(
                await self.client.put(
                    f"/api/v1/committees/{self.committee_id}/members/{code}", json={"status": "O"}, headers=sec
                )
            )
        for code in [*p, *o, *others]:
            await self.user(code, [{"role": "delegate", "member_body": code}])
        project = await ok(
            await self.client.post(
                "/api/v1/projects",
                json={
                    "committee_id": self.committee_id,
                    "reference": reference,
                    "title": "Test project",
                    "deliverable": deliverable,
                    "stage": stage,
                },
                headers=sec,
            ),
            201,
        )
        self.project_id = project["id"]
        return self

    async def ballot(self, type: str, weeks: int = 12, open: bool = True, **extra: Any) -> int:
        sec = self.headers["secretary"]
        body = {
            "project_id": self.project_id,
            "type": type,
            "closes_at": iso(self.clock.now + timedelta(weeks=weeks)),
            **extra,
        }
        ballot = await ok(await self.client.post("/api/v1/ballots", json=body, headers=sec), 201)
        if open:
            await ok(await self.client.post(f"/api/v1/ballots/{ballot['id']}/open", headers=sec))
        return int(ballot["id"])

    async def vote(self, ballot_id: int, code: str, position: str, status: int | None = None, **extra: Any) -> Any:
        response = await self.client.put(
            f"/api/v1/ballots/{ballot_id}/votes/{code}",
            json={"position": position, **extra},
            headers=self.headers[code],
        )
        if status is not None:
            assert response.status_code == status, response.text
        return response

    async def close(self, ballot_id: int) -> Any:
        return await ok(await self.client.post(f"/api/v1/ballots/{ballot_id}/close", headers=self.headers["secretary"]))
