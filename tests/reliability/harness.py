"""Tools of the load and fault tests: recorded writes over HTTP, the log and the votes as stored,
and private Redis and PostgreSQL servers that a test may stop, kill and restart.

The private servers run on ports of their own: the machine's shared servers are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from schemas.tables import metadata
from services.platform.db import Database
from tests import processes
from tests.conftest import empty_tables

REQUIRE = os.environ.get("BALLOTDESK_REQUIRE_SERVICES") == "1"
# Ports of this suite's own servers (APIs, private Redis, PostgreSQL, SMTP).
PORT_RANGE = range(18500, 18600)


def missing(what: str) -> None:
    """A server or tool the test needs is absent: a failure in CI, a skip on a laptop."""
    if REQUIRE:
        pytest.fail(f"BALLOTDESK_REQUIRE_SERVICES=1 but {what}")
    pytest.skip(what)


def free_port() -> int:
    """A free port of this suite's range (so parallel helpers and CI jobs do not collide)."""
    for port in PORT_RANGE:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {PORT_RANGE}")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def until(check: Callable[[], Awaitable[Any]], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- writes over HTTP ----------------------------------------------------------------------------


@dataclass
class Write:
    """One request of a load client and what came back."""

    client: int
    body: str
    kind: str  # vote | comments
    marker: str  # unique per write: the vote's reasons, the comments' text
    position: str = ""
    comments: int = 0
    api: int = 0
    sent: float = 0.0
    acked: float = 0.0
    status: int = 0  # 0: no HTTP answer (transport error)
    detail: str = ""
    retry_after: str | None = None
    set_version: int = 0
    resent: int = 0  # sent again after the connection dropped without an answer

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


async def put_vote(http: httpx.AsyncClient, ballot_id: int, token: str, write: Write) -> Write:
    body = {"position": write.position, "reasons": write.marker}
    return await _send(http, "PUT", f"/api/v1/ballots/{ballot_id}/votes/{write.body}", token, body, write)


async def put_comments(http: httpx.AsyncClient, ballot_id: int, token: str, write: Write) -> Write:
    rows = [
        {"clause": f"{k + 1}.1", "type": "te" if k % 2 else "ed", "comment": f"{write.marker} #{k + 1}"}
        for k in range(write.comments)
    ]
    await _send(http, "PUT", f"/api/v1/ballots/{ballot_id}/comments/{write.body}", token, {"comments": rows}, write)
    return write


async def _send(http: httpx.AsyncClient, method: str, url: str, token: str, body: Any, write: Write) -> Write:
    """Send a write; a connection dropped before any answer (a pooled keep-alive connection the
    server closed as it was reused) is sent again, as a client does with an idempotent PUT: a
    repeat of the same vote or comment set writes nothing new."""
    write.sent = time.monotonic()
    for attempt in range(3):
        try:
            response = await http.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"})
            break
        except httpx.TransportError as exc:
            write.detail = f"{type(exc).__name__}: {exc}"
            if attempt == 2 or isinstance(exc, httpx.TimeoutException):
                write.acked = time.monotonic()
                return write
            write.resent += 1
            await asyncio.sleep(0.1)
    write.acked = time.monotonic()
    write.status = response.status_code
    write.retry_after = response.headers.get("retry-after")
    if response.content:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if isinstance(data, dict):
            write.detail = str(data.get("detail") or "")
            write.set_version = int(data.get("set_version") or 0)
    return write


def http_client(base_url: str, connections: int = 100, timeout: float = 60.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


@dataclass
class Tally:
    """How the writes of a run ended."""

    writes: list[Write] = field(default_factory=list)

    @property
    def acknowledged(self) -> list[Write]:
        return [w for w in self.writes if w.ok]

    @property
    def server_errors(self) -> list[Write]:
        return [w for w in self.writes if w.status >= 500 and w.status != 503]

    @property
    def unavailable(self) -> list[Write]:
        return [w for w in self.writes if w.status == 503]

    @property
    def transport_errors(self) -> list[Write]:
        return [w for w in self.writes if w.status == 0]

    @property
    def conflicts(self) -> list[Write]:
        return [w for w in self.writes if w.status == 409]

    @property
    def resent(self) -> int:
        return sum(w.resent for w in self.writes)

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for w in self.writes:
            counts[w.status] = counts.get(w.status, 0) + 1
        return dict(sorted(counts.items()))


# --- the database as stored ----------------------------------------------------------------------


async def reset_schema(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine().begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            await conn.run_sync(metadata.create_all)
    finally:
        await db.dispose()


async def truncate(db: Database) -> None:
    async with db.engine().begin() as conn:
        await empty_tables(conn)


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as session:
        return list((await session.execute(text(sql), params)).all())


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.transaction() as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def votes_by_marker(db: Database, ballot_id: int) -> dict[str, tuple[int, str, str]]:
    """Every stored vote of the ballot: reasons (the write's marker) -> (vote id, body, position)."""
    found = await rows(db, "SELECT id, body, position, reasons FROM vote WHERE ballot_id = :b", b=ballot_id)
    return {r.reasons: (int(r.id), r.body, r.position) for r in found}


async def ballot_events(db: Database, ballot_id: int) -> list[Any]:
    """The ballot's events, oldest first (id order is the order the log hands them out)."""
    return await rows(
        db, "SELECT id, type, payload FROM event WHERE aggregate = :a ORDER BY id", a=f"ballot:{ballot_id}"
    )


def log_counts(events: Sequence[Any]) -> dict[str, int]:
    """The result's counts as the log tells them: the last vote event of each voter before
    `ballot.closed`, against the P-members frozen in `ballot.opened`."""
    opened = next(e.payload for e in events if e.type == "ballot.opened")
    p_members = set(opened["p_members"])
    voters = set(opened["voters"])
    last: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.type == "ballot.closed":
            break
        if e.type in ("vote.cast", "vote.changed") and e.payload["body"] in voters:
            last[e.payload["body"]] = e.payload
    positions = {body: p["position"] for body, p in last.items()}
    p_pos = [pos for body, pos in positions.items() if body in p_members]
    return {
        "p_members": len(p_members),
        "p_voted": len(p_pos),
        "p_approve": p_pos.count("approve"),
        "p_disapprove": p_pos.count("disapprove"),
        "p_abstain": p_pos.count("abstain"),
        "all_voted": len(positions),
        "all_approve": sum(1 for p in positions.values() if p == "approve"),
        "all_disapprove": sum(1 for p in positions.values() if p == "disapprove"),
        "all_abstain": sum(1 for p in positions.values() if p == "abstain"),
    }


# --- private servers -----------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the test's own, without persistence: stopping it loses its queues."""

    def __init__(self, port: int) -> None:
        server = shutil.which("redis-server")
        if not server:
            missing("redis-server is not installed")
        assert server is not None
        self.server = server
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [self.server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"private redis on port {self.port} did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis(free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


def _pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own in a temporary directory, run as the `postgres` user
    when the test runs as root (CI), since PostgreSQL refuses to run as root."""

    def __init__(self, port: int) -> None:
        bindir = _pg_bindir()
        if bindir is None:
            missing("PostgreSQL's initdb/pg_ctl are not installed (apt-get install postgresql)")
        assert bindir is not None
        self.bindir = bindir
        self.port = port
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if not runuser:
                missing("runuser is needed to run PostgreSQL as the postgres user")
            self.as_postgres = [str(runuser), "-u", "postgres", "--"]
        self.directory = Path(tempfile.mkdtemp(prefix="ballotdesk-reliability-pg-"))
        self.data = self.directory / "data"
        if self.as_postgres:
            shutil.chown(self.directory, user="postgres", group="postgres")
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, timeout=timeout, cwd=self.directory
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(args[:2])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._ctl("-o", options, "-l", str(self.directory / "server.log"), "start")

    def restart(self) -> None:
        """A fast restart: sessions are ended, transactions in flight are rolled back."""
        # With its log file again: without one the server would keep our pipe open.
        self._ctl("-m", "fast", "-l", str(self.directory / "server.log"), "restart")

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self._ctl("-m", "immediate", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
        server.remove()


# --- Ballotdesk's processes ----------------------------------------------------------------------


def start_apis(env: dict[str, str], log_dir: Path, count: int = 2) -> list[processes.Process]:
    """`count` separate `ballotdesk api` processes (one uvicorn worker each) on ports of the range."""
    started: list[processes.Process] = []
    for _ in range(count):
        api = processes.start_api(env, free_port_after(started), log_dir)
        started.append(api)
    try:
        for api in started:
            processes.wait_ready(api, path="/health")
    except BaseException:
        for api in started:  # not yet in the caller's clean-up list
            processes.kill(api)
        raise
    return started


def free_port_after(started: Sequence[processes.Process]) -> int:
    """A free port not already given to a process that may not have bound it yet."""
    taken = {p.port for p in started}
    for port in PORT_RANGE:
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port")
