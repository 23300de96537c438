"""Run the schema migrations (Alembic) against the configured database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

import schemas

MIGRATIONS = Path(schemas.__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe to call from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade(url, revision)
        return
    # env.py runs its own loop, which cannot nest in a running one: use a thread.
    import threading

    errors: list[BaseException] = []

    def target() -> None:
        try:
            _upgrade(url, revision)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
