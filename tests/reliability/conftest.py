"""Fixtures of the reliability suite: the scale of the loads and the table of figures.

Every test adds one row to the table with the session fixture `figures`:

    def test_something(figures: Figures) -> None:
        ...
        figures.add("concurrent writers", writes=1200, conflicts=0, errors=0)

`add(name, **values)` takes any of `Figures.COLUMNS` (writes, conflicts, errors, events_lost,
duplicates, cases, refusals) and any other keyword, which is shown in the last column as
key=value. Rows appear in the order added; the table is printed at the end of the run
(pytest's terminal summary) and, when BALLOTDESK_RELIABILITY_FIGURES names a file, written there
as JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.platform.db import Database
from tests.reliability.harness import truncate

SCALE_ENV = "BALLOTDESK_RELIABILITY_SCALE"
FIGURES_ENV = "BALLOTDESK_RELIABILITY_FIGURES"


def long_form() -> bool:
    """True for `python -m tests.reliability` (BALLOTDESK_RELIABILITY_SCALE=long)."""
    return os.environ.get(SCALE_ENV, "short").strip().lower() == "long"


def scaled(short: int, long: int) -> int:
    """A load's size: `short` in CI, `long` in the long form."""
    return long if long_form() else short


@dataclass
class Figures:
    """The rows of the figures table, one per test (or per measured case of a test)."""

    COLUMNS = ("writes", "conflicts", "errors", "events_lost", "duplicates", "cases", "refusals")
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, **values: Any) -> None:
        self.rows.append({"test": name, **values})

    def table(self) -> str:
        headers = ["test", *(c.replace("_", " ") for c in self.COLUMNS), "other"]
        lines = []
        for row in self.rows:
            other = ", ".join(f"{k}={v}" for k, v in row.items() if k != "test" and k not in self.COLUMNS)
            lines.append([str(row["test"]), *(_cell(row.get(c)) for c in self.COLUMNS), other])
        widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)]
        out = [
            " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)),
            "-+-".join("-" * w for w in widths),
        ]
        out += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
        return "\n".join(out)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


_FIGURES = pytest.StashKey[Figures]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_FIGURES] = Figures()


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> Iterator[Figures]:
    yield pytestconfig.stash[_FIGURES]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    found = config.stash.get(_FIGURES, None)
    if found is None or not found.rows:
        return
    scale = "long" if long_form() else "short"
    terminalreporter.write_sep("=", f"reliability figures ({scale} form)")
    terminalreporter.write_line(found.table())
    target = os.environ.get(FIGURES_ENV, "").strip()
    if target:
        Path(target).write_text(json.dumps({"scale": scale, "rows": found.rows}, indent=2, default=str))


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[Database]:
    """The suite's PostgreSQL database (BALLOTDESK_TEST_POSTGRES_URL), emptied for each test."""
    database = Database(postgres_url)
    await truncate(database)
    yield database
    await database.dispose()
