"""The README's first command, for real: `ballotdesk serve --demo` in its own process."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL

BALLOTDESK = str(Path(sys.executable).parent / "ballotdesk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = cwd / f"serve-{self.port}.log"
        self.proc = subprocess.Popen(
            [BALLOTDESK, "serve", "--demo", "--port", str(self.port)],
            cwd=cwd,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"serve did not come up:\n{self.log.read_text()}")

    def tokens(self) -> dict[str, str]:
        found = re.findall(r"^\s+(\S+)\s+.*\s(bd_\S+)$", self.log.read_text(), re.M)
        return dict(found)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def _env(database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALLOTDESK_")}
    if database_url:
        env["BALLOTDESK_DATABASE_URL"] = database_url
    return env


async def _fresh_database(name: str) -> str:
    import asyncpg

    base = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgres"])
def serve_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield _env(None)
        return
    request.getfixturevalue("postgres_url")
    yield _env(asyncio.run(_fresh_database("ballotdesk_cli")))


def test_serve_demo_starts_with_demo_data_and_a_ballot_a_delegate_can_vote_on(tmp_path: Path, serve_env) -> None:
    server = Server(tmp_path, serve_env)
    try:
        tokens = server.tokens()
        assert {"admin", "secretary", "convenor", "delegate-de", "delegate-jp"} <= set(tokens)
        de = {"Authorization": f"Bearer {tokens['delegate-de']}"}
        open_ballots = httpx.get(f"{server.base}/api/v1/ballots?status=open", headers=de).json()
        assert len(open_ballots) == 1 and open_ballots[0]["type"] == "CD"
        ballot_id = open_ballots[0]["id"]
        voted = httpx.put(
            f"{server.base}/api/v1/ballots/{ballot_id}/votes/JP",
            json={"position": "approve"},
            headers={"Authorization": f"Bearer {tokens['delegate-jp']}"},
        )
        assert voted.status_code == 201, voted.text
        closed = httpx.get(f"{server.base}/api/v1/ballots?status=closed", headers=de).json()
        assert closed[0]["type"] == "DIS" and closed[0]["result"]["approved"] is True
        assert httpx.get(f"{server.base}/schema/openapi.json").status_code == 200
    finally:
        server.stop()
    if "BALLOTDESK_DATABASE_URL" not in serve_env:
        assert (tmp_path / "var" / "ballotdesk.db").exists()

    # A restart keeps everything, loads nothing twice, and replaces the demo tokens.
    again = Server(tmp_path, serve_env)
    try:
        assert "Demo data loaded" not in again.log.read_text()
        old = httpx.get(f"{again.base}/api/v1/me", headers={"Authorization": f"Bearer {tokens['delegate-jp']}"})
        assert old.status_code == 401
        jp = {"Authorization": f"Bearer {again.tokens()['delegate-jp']}"}
        votes = httpx.get(f"{again.base}/api/v1/ballots/{ballot_id}/votes", headers=jp).json()
        assert [(v["body"], v["position"]) for v in votes] == [("JP", "approve")]
    finally:
        again.stop()
