"""The README's production section, followed as written: its shell blocks run in order with the
production settings exported (PostgreSQL and Redis of the test), from a directory that holds an
embedded installation (`ballotdesk demo` on var/ballotdesk.db) and the project's `.venv`. The
only change is the port, 8000 in the README, one of the test's here. The container commands are
not run (no container engine): the files they name must exist, and tests/unit/test_deploy.py
validates them against their schemas."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from schemas.tables import Ballot, Event
from services.platform.db import Database
from tests import processes

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("BALLOTDESK_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("BALLOTDESK_TEST_REDIS_URL", "")
REQUIRED = os.environ.get("BALLOTDESK_REQUIRE_SERVICES") == "1"
PORT = int(os.environ.get("BALLOTDESK_TEST_PORT_BASE", "18250")) + 5
CONTAINER_TOOLS = ("docker", "kubectl", "openssl", "cp")


def production_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def _is_container_block(block: str) -> bool:
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return all(line.split()[0] in CONTAINER_TOOLS for line in commands)


def test_the_container_commands_name_files_that_exist() -> None:
    blocks = [b for b in production_blocks() if _is_container_block(b)]
    assert blocks, "the README shows how to run the containers"
    for block in blocks:
        for word in shlex.split(block, comments=True):
            if word.startswith("deploy/") and not word.endswith((".pem", ".env")):
                assert (ROOT / word).exists(), f"the README names {word}, which does not exist"


async def _count(url: str, table: type, *where: Any) -> int:
    db = Database(url)
    try:
        async with db.transaction() as session:
            query = select(func.count()).select_from(table).where(*where)
            return int((await session.execute(query)).scalar_one())
    finally:
        await db.dispose()


def _stop_group(pgid: int, timeout: float = 40.0) -> None:
    """SIGTERM to what the README's blocks left running (they share the script's session)."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pgid, signal.SIGKILL)
    raise AssertionError("the README's processes did not stop on SIGTERM")


async def test_the_production_section_runs_as_written(tmp_path: Path) -> None:
    if not (POSTGRES_URL and REDIS_URL):
        if REQUIRED:
            pytest.fail("PostgreSQL and Redis are required in CI (BALLOTDESK_TEST_POSTGRES_URL, _REDIS_URL)")
        pytest.skip("PostgreSQL or Redis not configured")
    database_url = await processes.fresh_postgres_database(POSTGRES_URL, "readme")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    embedded = processes.environment(
        f"sqlite+aiosqlite:///{tmp_path / 'var' / 'ballotdesk.db'}", production=False, log_format="text"
    )
    demo = subprocess.run(
        [*processes.command(), "demo"], env=embedded, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert demo.returncode == 0, demo.stderr
    embedded_url = embedded["BALLOTDESK_DATABASE_URL"]

    runnable = [b for b in production_blocks() if not _is_container_block(b)]
    assert len(runnable) == 2 and "ballotdesk export" in runnable[0] and "ballotdesk api" in runnable[1]
    script = "set -euo pipefail\n" + "\n".join(runnable).replace(":8000", f":{PORT}").replace(
        "--port 8000", f"--port {PORT}"
    )
    # As the README says: the moved installation keeps the key its records were signed with.
    env = processes.environment(
        database_url, broker_url=REDIS_URL, extra={"BALLOTDESK_SIGNING_KEY": "var/signing-key.pem"}
    )
    log = tmp_path / "readme.log"
    with log.open("wb") as out:
        script_process = subprocess.Popen(
            ["bash", "-c", script], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            status = script_process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            status = None
        finally:
            _stop_group(script_process.pid)
    output = log.read_text(errors="replace")
    assert status == 0, output[-4000:]
    assert '"status":"ready"' in output
    assert "ballotdesk_outbox_oldest_pending_seconds" in output

    # The embedded installation's data came along (and the workers then handled the deliveries it
    # had left pending, adding events of their own after the imported ones).
    assert await _count(database_url, Ballot) == await _count(embedded_url, Ballot) > 0
    moved = await _count(embedded_url, Event)
    assert await _count(database_url, Event, col(Event.id) <= moved) == moved
