"""Files that hold secrets (token and password hashes, documents) are their owner's alone: the
SQLite database with its WAL, and an installation's export."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from services.platform import migrate, transfer
from services.platform.db import Database


def _others_may_read(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


async def test_the_sqlite_file_and_an_export_are_written_0600(tmp_path: Path) -> None:
    database = tmp_path / "var" / "ballotdesk.db"
    url = f"sqlite+aiosqlite:///{database}"
    await asyncio.to_thread(migrate.upgrade, url)
    assert database.exists() and not _others_may_read(database)
    for companion in (database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        assert not companion.exists() or not _others_may_read(companion)
    exported = tmp_path / "export.jsonl.gz"
    exported.write_text("an older file that others could read")
    exported.chmod(0o644)
    db = Database(url)
    try:
        await transfer.export(db, exported)
    finally:
        await db.dispose()
    assert not _others_may_read(exported)
