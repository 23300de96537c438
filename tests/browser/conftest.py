"""A real server in a thread and Debian's Chromium driven by Playwright.

The app runs with uvicorn on its own event loop and a hand-moved clock, on SQLite and on
PostgreSQL (the `database_url` fixture of tests/conftest.py). Chromium is the system's
(/usr/bin/chromium); no browser is ever downloaded. Without it the tests are skipped, unless
BALLOTDESK_REQUIRE_SERVICES=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from schemas import api
from schemas.enums import BallotType, Deliverable, Position, Role
from schemas.tables import metadata
from services.http.app import create_app
from services.platform.db import Database
from services.platform.settings import Settings
from services.rules.actors import ENV_ADMIN
from services.usecases import ballots, committees, projects, users, votes
from tests.conftest import REQUIRE_POSTGRES, Clock, empty_tables

CHROMIUM = os.environ.get("BALLOTDESK_TEST_CHROMIUM", "/usr/bin/chromium")
PORTS = range(int(os.environ.get("BALLOTDESK_TEST_PORT_FROM", "18100")), 18200)
PASSWORD = "correct horse battery staple"
SHOTS_COPY = Path(os.environ.get("BALLOTDESK_SHOTS_DIR", "/work/helpers/shots"))


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for the test server")


@dataclass
class Site:
    base: str
    clock: Clock
    database_url: str
    ballot_id: int
    project_id: int
    committee_id: int
    emails: dict[str, str] = field(default_factory=dict)
    shots: Path | None = None

    def url(self, path: str) -> str:
        return self.base + path

    def run(self, coro: Any) -> Any:
        """Work on the database from the test's side (its own loop and engine)."""

        async def go() -> Any:
            db = Database(self.database_url)
            try:
                return await coro(db)
            finally:
                await db.dispose()

        # Playwright's sync API keeps an event loop running in this thread; use another one.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, go()).result()


async def _seed(db: Database, clock: Clock) -> tuple[int, int, int, dict[str, str]]:
    now = clock.now - timedelta(days=1)
    emails: dict[str, str] = {}
    password_hash = await users.new_password(PASSWORD)
    async with db.transaction() as s:
        for code in ("DE", "FR", "JP", "GB", "SE"):
            await committees.create_body(
                s, ENV_ADMIN, api.MemberBodyCreate(code=code, acronym=f"{code}SI", name=f"Standards {code}"), now
            )
        tc = await committees.create_committee(
            s, ENV_ADMIN, api.CommitteeCreate(reference="ISO/TC 999", title="Testing", secretariat="DE"), now
        )
        assert tc.id is not None
        for key, roles in (
            ("secretary", [api.RoleIn(role=Role.SECRETARY, committee_id=tc.id)]),
            ("convenor", [api.RoleIn(role=Role.CONVENOR, committee_id=tc.id)]),
            ("de", [api.RoleIn(role=Role.DELEGATE, member_body="DE")]),
            ("fr", [api.RoleIn(role=Role.DELEGATE, member_body="FR")]),
        ):
            email = f"{key}@example.org"
            await users.create_user(
                s,
                ENV_ADMIN,
                api.UserCreate(name=f"{key.title()} Person", email=email, roles=roles, password=PASSWORD),
                now,
                password_hash,
            )
            emails[key] = email
        for code in ("DE", "FR", "JP", "GB"):
            await committees.set_membership(s, ENV_ADMIN, tc.id, code, "P", now)
        await committees.set_membership(s, ENV_ADMIN, tc.id, "SE", "O", now)
        project = await projects.create_project(
            s,
            ENV_ADMIN,
            api.ProjectCreate(
                committee_id=tc.id,
                reference="ISO 99001",
                title="Test project",
                deliverable=Deliverable.IS,
                stage="40.00",
            ),
            now,
        )
        assert project.id is not None
        ballot, _ = await ballots.create_ballot(
            s,
            ENV_ADMIN,
            api.BallotCreate(project_id=project.id, type=BallotType.DIS, closes_at=clock.now + timedelta(weeks=12)),
            now,
        )
        assert ballot.id is not None
        await ballots.open_ballot(s, ENV_ADMIN, ballot.id, clock.now)
        for code in ("JP", "GB"):
            await votes.cast_vote(s, ENV_ADMIN, ballot.id, code, api.VotePut(position=Position.APPROVE), clock.now)
        return ballot.id, project.id, tc.id, emails


async def _prepare(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine().begin() as conn:
            if db.dialect == "sqlite":
                await conn.run_sync(metadata.create_all)
            else:
                await empty_tables(conn)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        if REQUIRE_POSTGRES:
            pytest.fail(
                f"BALLOTDESK_REQUIRE_SERVICES=1 but Chromium is missing at {CHROMIUM} (apt-get install chromium)"
            )
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def site(database_url: str, shots_dir: Path) -> Iterator[Site]:
    clock = Clock()

    async def seed() -> tuple[int, int, int, dict[str, str]]:
        await _prepare(database_url)
        db = Database(database_url)
        try:
            return await _seed(db, clock)
        finally:
            await db.dispose()

    ballot_id, project_id, committee_id, emails = asyncio.run(seed())
    port = _free_port()
    settings = Settings(database_url=database_url, admin_token="browser-admin-token-0123456789")
    app = create_app(settings, db=Database(database_url), clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="ballotdesk-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    kind = "sqlite" if database_url.startswith("sqlite") else "postgres"
    yield Site(
        f"http://127.0.0.1:{port}", clock, database_url, ballot_id, project_id, committee_id, emails, shots_dir / kind
    )
    server.should_exit = True
    thread.join(timeout=20)


@pytest.fixture
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            yield instance
        finally:
            instance.close()


def screenshot(site: Site, page: Any, name: str) -> Path:
    """A full-page capture at 1280 px into the run's temporary folder (and a copy for the lead)."""
    assert site.shots is not None
    site.shots.mkdir(parents=True, exist_ok=True)
    path = site.shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if site.shots.name == "sqlite" and SHOTS_COPY.parent.exists():
        SHOTS_COPY.mkdir(exist_ok=True)
        shutil.copy(path, SHOTS_COPY / path.name)
    return path
