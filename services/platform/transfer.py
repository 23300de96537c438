"""Moving an installation between databases: `ballotdesk export FILE` and `ballotdesk import FILE`.

The file is gzip-compressed JSON lines: a header (format, schema revision, row counts), then one
line per row, table by table in foreign-key order. Every column is carried as stored: ids (so
the event log, its hash chain and every reference stay as they were), token and password hashes,
documents' bytes (base64). Import writes into an empty, migrated database in one transaction and
then moves PostgreSQL's id sequences past the imported ids, so new rows get fresh ids.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Column, LargeBinary, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.tables import metadata
from schemas.types import UTCDateTime
from services.platform.db import Database
from services.rules.errors import DomainError

FORMAT = "ballotdesk-export"
FORMAT_VERSION = 1
BATCH = 500


@dataclass(frozen=True)
class Summary:
    revision: str
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _tables() -> list[Table]:
    return list(metadata.sorted_tables)


def _encode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    if isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    return value


async def _revision(conn: AsyncConnection) -> str:
    try:
        return str((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one())
    except Exception as exc:
        raise DomainError(f"The database has no schema revision; run `ballotdesk migrate` first ({exc}).") from exc


def _order(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns) or list(table.columns)


async def export(db: Database, path: Path) -> Summary:
    """Write every table of `db` to `path`. Reads in one transaction, so the file is consistent."""
    counts: dict[str, int] = {}
    async with db.engine().connect() as conn:
        if not db.sql.writers_serialised:  # else the transaction is a snapshot already
            await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        revision = await _revision(conn)
        for table in _tables():
            counts[table.name] = int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
        # The file holds token and password hashes and every document: its owner's alone.
        path.unlink(missing_ok=True)
        with (
            open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw,
            gzip.open(raw, "wt", encoding="utf-8") as out,
        ):
            header = {"format": FORMAT, "version": FORMAT_VERSION, "revision": revision, "rows": counts}
            out.write(json.dumps(header) + "\n")
            for table in _tables():
                columns = list(table.columns)
                result = await conn.stream(select(table).order_by(*_order(table)))
                async for row in result:
                    values = {c.name: _encode(c, v) for c, v in zip(columns, row, strict=True)}
                    out.write(json.dumps({"t": table.name, "r": values}, ensure_ascii=False) + "\n")
    return Summary(revision, counts)


def _lines(stream: IO[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise DomainError(f"Line {number} of the export is not valid JSON: {exc.msg}.") from exc


async def _reset_sequences(conn: AsyncConnection) -> None:
    """After rows were inserted with their own ids, the next generated id follows the largest."""
    for table in _tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not keys[0].autoincrement or keys[0].type.python_type is not int:
            continue
        name = keys[0].name
        sequence = (
            await conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": name})
        ).scalar_one()
        if sequence:
            await conn.execute(
                text(f'SELECT setval(:s, COALESCE((SELECT MAX("{name}") FROM "{table.name}"), 0) + 1, false)'),
                {"s": sequence},
            )


async def import_(db: Database, path: Path) -> Summary:
    """Load an export into `db`, which must be migrated to the same revision and empty."""
    tables = {t.name: t for t in _tables()}
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        lines = _lines(stream)
        try:
            header = next(lines)
        except (StopIteration, OSError, EOFError) as exc:
            raise DomainError(f"{path} is not a Ballotdesk export (gzip-compressed JSON lines).") from exc
        if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
            raise DomainError(f"{path} is not a Ballotdesk export of format version {FORMAT_VERSION}.")
        expected: dict[str, int] = header["rows"]
        unknown = sorted(set(expected) - set(tables))
        if unknown:
            raise DomainError(f"The export has tables this version does not know: {', '.join(unknown)}.")
        async with db.engine().begin() as conn:
            revision = await _revision(conn)
            if revision != header["revision"]:
                raise DomainError(
                    f"The export is at schema revision {header['revision']}, this database at {revision}: "
                    "migrate both to the same revision (`ballotdesk migrate`) and export again."
                )
            for table in tables.values():
                if (await conn.execute(select(func.count()).select_from(table))).scalar_one():
                    raise DomainError(f"The database is not empty (table {table.name} has rows); use a new one.")
            loaded = dict.fromkeys(tables, 0)
            batch: list[dict[str, Any]] = []
            current: Table | None = None
            for entry in lines:
                if entry.get("t") not in tables:
                    raise DomainError(f"The export names an unknown table {entry.get('t')!r}.")
                table = tables[entry["t"]]
                if current is not None and table is not current and batch:
                    await conn.execute(insert(current), batch)
                    batch = []
                current = table
                row = entry["r"]
                batch.append({c.name: _decode(c, row.get(c.name)) for c in table.columns})
                loaded[table.name] += 1
                if len(batch) >= BATCH:
                    await conn.execute(insert(table), batch)
                    batch = []
            if current is not None and batch:
                await conn.execute(insert(current), batch)
            short = {n: (loaded.get(n, 0), c) for n, c in expected.items() if loaded.get(n, 0) != c}
            if short:
                detail = ", ".join(f"{n}: {got} of {want}" for n, (got, want) in sorted(short.items()))
                raise DomainError(f"The export is incomplete ({detail}); nothing was imported.")
            if db.sql.has_sequences:
                await _reset_sequences(conn)
    return Summary(revision, {n: c for n, c in loaded.items() if c})
