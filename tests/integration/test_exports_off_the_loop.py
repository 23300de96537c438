"""Spreadsheet exports are built off the event loop (issue 12, item 9): 38,000 comments took 9 s
to write as XLSX, and every other request of the process waited for them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.documents import spreadsheets
from tests.world import World


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_the_spreadsheet_is_written_where_no_event_loop_runs(
    client: Any, clock: Any, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    comments = {"comments": [{"clause": "4", "type": "te", "comment": "A comment."}]}
    await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=comments, headers=w.headers["DE"])
    on_a_loop: list[bool] = []
    original = getattr(spreadsheets, f"to_{kind}")

    def spy(*args: Any) -> bytes:
        try:
            asyncio.get_running_loop()
            on_a_loop.append(True)
        except RuntimeError:
            on_a_loop.append(False)
        return original(*args)  # type: ignore[no-any-return]

    monkeypatch.setattr(spreadsheets, f"to_{kind}", spy)
    for path in (f"/api/v1/ballots/{ballot_id}/comments.{kind}", f"/ballots/{ballot_id}/files/comments.{kind}"):
        await client.get(path, headers=w.headers["secretary"])
    assert on_a_loop == [False], on_a_loop  # the page needs a sign-in: only the API's download ran
