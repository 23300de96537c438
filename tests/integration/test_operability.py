"""What an operator relies on: /ready, request ids from the HTTP request into the event log,
logs that never carry a secret, /metrics, and settings refused at start in production."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlmodel import select

from schemas.tables import Event
from services.http.app import create_app
from services.platform import config_check, logs, requestid, signing
from services.platform.db import Database
from services.platform.settings import Settings
from tests import processes
from tests.world import ADMIN, World

STRONG_TOKEN = "Zq3xT9pLmW2vRb7NcY4hKd8sFj6Ga1Eu"
STRONG_KEY = "k9VoP2qW7eR4tY1uI8oA5sD3fG6hJ0kLzXcVbNm"


async def test_ready_reports_the_database_and_the_in_process_broker(client: Any) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.parametrize(
    ("database_url", "broker_url", "failing"),
    [
        ("postgresql+asyncpg://nobody:pw@127.0.0.1:1/none", "", "database"),
        (None, "redis://:s3cret-pass@127.0.0.1:1/0", "broker"),
        (None, "amqp://guest:s3cret-pass@127.0.0.1:1/h", "broker"),
    ],
)
async def test_ready_is_a_503_problem_when_the_database_or_the_broker_is_unreachable(
    tmp_path: Any, database_url: str | None, broker_url: str, failing: str
) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'ready.db'}"
    app = create_app(Settings(database_url=url, broker_url=broker_url))
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/ready")
        health = await client.get("/health")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 503 and failing in body["detail"]
    assert body["checks"][failing] != "ok"
    assert "s3cret-pass" not in response.text and "pw@" not in response.text
    assert health.status_code == 200  # alive, only not ready


async def test_a_request_id_is_echoed_and_stored_on_the_events_it_caused(client: Any, db: Database) -> None:
    given = await client.post(
        "/api/v1/member-bodies",
        json={"code": "DE", "acronym": "DIN", "name": "Deutsches Institut"},
        headers={**ADMIN, "X-Request-ID": "trace-42"},
    )
    assert given.status_code == 201 and given.headers["x-request-id"] == "trace-42"
    made = await client.post(
        "/api/v1/member-bodies", json={"code": "FR", "acronym": "AFNOR", "name": "AFNOR"}, headers=ADMIN
    )
    generated = made.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    refused = await client.get("/health", headers={"X-Request-ID": "no spaces allowed" + "x" * 80})
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])

    async with db.transaction() as session:
        stored = {e.payload.get("code"): e.request_id for e in (await session.execute(select(Event))).scalars()}
    assert stored["DE"] == "trace-42" and stored["FR"] == generated
    assert requestid.current.get() is None  # nothing leaks out of a request


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The JSON log of this process, as production writes it, into a buffer."""
    stream = io.StringIO()
    logs.configure(Settings(log_format="json"))
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    logs.configure(Settings())


def test_json_logs_carry_the_request_id_and_never_a_secret(captured: io.StringIO) -> None:
    log = logging.getLogger("ballotdesk.test")
    token = requestid.current.set("req-7")
    try:
        log.info("headers: Authorization: Bearer bd_abcdef123456 Cookie: session=opaque123")
        log.warning("connecting to postgresql://ballotdesk:hunter2@db:5432/ballotdesk")
        log.info("form password=hunter2&token=bd_zzz and secret_key: 'k3y'", extra={"user": "anna"})
        try:
            raise ValueError("token=bd_in_traceback")
        except ValueError:
            log.exception("failed with api_key=xyz987")
    finally:
        requestid.current.reset(token)
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert len(lines) == 4
    assert all(line["request_id"] == "req-7" and line["level"] in ("info", "warning", "error") for line in lines)
    assert lines[2]["user"] == "anna"
    text = captured.getvalue()
    for secret in ("bd_abcdef123456", "opaque123", "hunter2", "bd_zzz", "k3y", "bd_in_traceback", "xyz987"):
        assert secret not in text, secret
    assert "ballotdesk:[redacted]@db:5432" in text


async def test_requests_log_no_token_password_or_cookie(client: Any, captured: io.StringIO) -> None:
    w = await World(client, None).build(p=["DE"])  # type: ignore[arg-type]
    secret_token = w.headers["DE"]["Authorization"].split()[1]
    await client.get("/api/v1/ballots", headers={**w.headers["DE"], "Cookie": "session=cookie-secret-1"})
    await client.get("/api/v1/ballots", headers={"Authorization": "Bearer wrong-token-secret-2"})
    text = captured.getvalue()
    for secret in (secret_token, "cookie-secret-1", "wrong-token-secret-2", ADMIN["Authorization"].split()[1]):
        assert secret not in text


def _sample(exposition: str, name: str, **labels: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            rest = line[len(name) :]
            if rest.startswith(("{", " ")):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_show_latency_by_route_votes_and_the_outbox(client: Any, clock: Any) -> None:
    before = (await client.get("/metrics")).text
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.vote(ballot_id, "FR", "disapprove", 201, reasons="No.")
    await w.vote(ballot_id, "DE", "abstain", 200)
    await w.vote(ballot_id, "DE", "approve", 200)
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = response.text
    route = "/api/v1/ballots/{ballot_id}/votes/{code}"
    votes = _sample(after, "ballotdesk_votes_cast_total") - _sample(before, "ballotdesk_votes_cast_total")
    assert votes == 4
    put_201 = _sample(after, "ballotdesk_http_request_duration_seconds_count", route=route, status="201")
    assert put_201 - _sample(before, "ballotdesk_http_request_duration_seconds_count", route=route, status="201") == 2
    # No worker runs here: the ballot's deliveries wait in the outbox, and the scrape says so.
    assert _sample(after, "ballotdesk_outbox_pending", consumer="mailer") >= 1
    assert _sample(after, "ballotdesk_outbox_oldest_pending_seconds") >= 0
    assert "ballotdesk_queue_lag_seconds" in after and "ballotdesk_document_build_seconds_count" in after


_KEYS = Path(tempfile.mkdtemp(prefix="ballotdesk-keys-"))
GOOD_KEY = _KEYS / "signing-key.pem"
signing.create_key(GOOD_KEY)
NOT_A_KEY = _KEYS / "placeholder.pem"
NOT_A_KEY.write_text(
    "-----BEGIN PRIVATE KEY-----\nchange-me: openssl genpkey -algorithm ed25519\n-----END PRIVATE KEY-----\n"
)


def config_check_roles() -> tuple[str, ...]:
    return ("api", "serve", "worker", "scheduler", "migrate", "check")


def _settings(**changes: Any) -> Settings:
    base = {
        "database_url": "postgresql+asyncpg://u:p@db/ballotdesk",
        "broker_url": "redis://redis:6379/0",
        "admin_token": STRONG_TOKEN,
        "secret_key": STRONG_KEY,
        "environment": "production",
        "signing_key_path": str(GOOD_KEY),
    }
    return Settings(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "role", "complaint"),
    [
        ({"database_url": "sqlite+aiosqlite:///var/ballotdesk.db"}, "migrate", "SQLite"),
        ({"admin_token": ""}, "api", "BALLOTDESK_ADMIN_TOKEN"),
        ({"admin_token": "change-me-to-a-long-random-token"}, "api", "BALLOTDESK_ADMIN_TOKEN"),
        ({"secret_key": ""}, "api", "BALLOTDESK_SECRET_KEY"),
        ({"secret_key": "short-but-random"}, "api", "BALLOTDESK_SECRET_KEY"),
        ({"broker_url": ""}, "worker", "BALLOTDESK_BROKER_URL"),
        ({"environment": "prod"}, "api", "BALLOTDESK_ENV"),
        # Long enough, and still guessable in no time (issue 12, item 12).
        ({"admin_token": "a" * 24}, "api", "BALLOTDESK_ADMIN_TOKEN"),
        ({"secret_key": "a" * 32}, "api", "BALLOTDESK_SECRET_KEY"),
        ({"admin_token": "CHANGE_ME_TO_A_LONG_RANDOM_TOKEN"}, "api", "BALLOTDESK_ADMIN_TOKEN"),
        ({"admin_token": STRONG_KEY}, "api", "BALLOTDESK_ADMIN_TOKEN equals BALLOTDESK_SECRET_KEY"),
        ({"database_url": "postgresql+asyncpg://u:change-me@db/ballotdesk"}, "worker", "BALLOTDESK_DATABASE_URL"),
        ({"smtp_url": "smtp+starttls://mailer:Change_Me@mail:587"}, "worker", "BALLOTDESK_SMTP_URL"),
        # No signing key: every production process refuses (issue 12, item 12).
        *(({"signing_key_path": ""}, role, "BALLOTDESK_SIGNING_KEY is empty") for role in config_check_roles()),
        ({"signing_key_path": str(_KEYS / "missing.pem")}, "worker", "cannot be read"),
        ({"signing_key_path": str(NOT_A_KEY)}, "scheduler", "not an unencrypted private key"),
    ],
)
def test_production_refuses_settings_fit_only_for_a_laptop(changes: dict[str, str], role: str, complaint: str) -> None:
    found = config_check.problems(_settings(**changes), role)
    assert len(found) == 1 and complaint in found[0]


def test_production_settings_that_are_right_pass_and_embedded_mode_asks_nothing() -> None:
    assert all(not config_check.problems(_settings(), role) for role in config_check_roles())
    embedded = Settings(database_url="sqlite+aiosqlite:///x.db")
    assert all(not config_check.problems(embedded, role) for role in config_check_roles())
    # Secrets are the API's business: a worker needs neither.
    assert not config_check.problems(_settings(admin_token="", secret_key=""), "worker")


@pytest.mark.parametrize("role", [["api", "--port", "18298"], ["worker"], ["scheduler"], ["migrate"]])
def test_a_production_process_with_sqlite_and_default_secrets_does_not_start(role: list[str], tmp_path: Any) -> None:
    env = processes.environment(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", admin_token="", secret_key="", log_format="text"
    )
    done = processes.run(role, env, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "configuration refused" in done.stderr and "SQLite" in done.stderr
    if role[0] == "api":
        assert "BALLOTDESK_SECRET_KEY" in done.stderr and "BALLOTDESK_ADMIN_TOKEN" in done.stderr
    assert not (tmp_path / "x.db").exists()  # refused before touching anything


@pytest.mark.parametrize("role", [["check"], ["scheduler"]])
def test_a_production_process_without_a_signing_key_does_not_start(role: list[str], tmp_path: Any) -> None:
    env = processes.environment("postgresql://u:p@127.0.0.1:9/none", broker_url="redis://127.0.0.1:9/0")
    env.pop("BALLOTDESK_SIGNING_KEY")
    done = processes.run(role, env, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "configuration refused" in done.stderr and "BALLOTDESK_SIGNING_KEY is empty" in done.stderr
    assert "ballotdesk keygen" in done.stderr


def test_keygen_writes_a_key_only_its_owner_reads_and_never_replaces_one(tmp_path: Path) -> None:
    env = processes.environment(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", production=False)
    path = tmp_path / "secrets" / "signing-key.pem"
    old_umask = os.umask(0)  # the mode must not depend on the caller's umask
    try:
        done = processes.run(["keygen", str(path)], env)
    finally:
        os.umask(old_umask)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = signing.load_key(path)
    assert signing.key_id(key) in done.stdout and "BEGIN PUBLIC KEY" in done.stdout
    before = path.read_bytes()
    again = processes.run(["keygen", str(path)], env)
    assert again.returncode == 2 and "never replaced" in again.stderr
    assert path.read_bytes() == before
    # A production process given that file passes the check.
    assert signing.key_problem(Settings(environment="production", signing_key_path=str(path))) is None
