"""Issue #13 items 2 and 3: the page's new-ballot form offers only what can open on the project
now, says why the rest is absent, and "create and open now" is one transaction."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from services.rules.errors import Conflict
from services.usecases import ballots as ballot_use_cases
from tests.integration.test_web_pages import committee, person, sign_in, token
from tests.world import ADMIN, World, ok


def _offered(html: str) -> set[str]:
    select = html.split('<select id="type"')[1].split("</select>")[0]
    return set(re.findall(r'<option value="([^"]+)"', select))


async def _ballots(client: Any, project_id: int) -> list[dict[str, Any]]:
    return list(await ok(await client.get(f"/api/v1/ballots?project_id={project_id}", headers=ADMIN)))


async def _last_event(client: Any) -> int:
    after = 0
    while True:
        found = await ok(await client.get(f"/api/v1/events?after={after}&limit=1000", headers=ADMIN))
        if not found["items"]:
            return after
        after = found["next_after"]


async def test_a_ts_project_at_20_00_is_offered_no_fdis_and_the_server_refuses_one(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"], deliverable="TS", stage="20.00", reference="ISO/TS 19387")
    secretary = await person(client, "sec", [{"role": "secretary", "committee_id": w.committee_id}])
    await sign_in(client, secretary)
    page = await client.get(f"/projects/{w.project_id}")
    assert _offered(page.text) == {"WD", "CIB"}
    absent = page.text.split('id="absent-types"')[1].split("</details>")[0]
    assert "A FDIS ballot cannot be run on a TS project; it is for AMD, COR, IS." in absent
    assert "A CD ballot cannot open while the project is at stage 20.00" in absent
    assert "Only the types that can open on this TS project at stage 20.00 are offered." in page.text

    closes = (clock.now + timedelta(weeks=8)).strftime("%Y-%m-%dT%H:%M")
    refused = await client.post(
        f"/projects/{w.project_id}/ballots", data={"type": "FDIS", "closes_at": closes, "_csrf": token(page.text)}
    )
    assert refused.status_code == 422
    assert re.search(r'id="type-error">.*A FDIS ballot cannot be run on a TS project', refused.text)
    assert await _ballots(client, w.project_id) == []
    # The API keeps preparing drafts ahead of the stage (a client's own planning).
    await w.ballot("CD", open=False)
    assert [b["type"] for b in await _ballots(client, w.project_id)] == ["CD"]


async def test_a_failed_open_leaves_no_draft_and_no_event_and_a_second_press_makes_no_duplicate(
    client: Any, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, emails = await committee(client, clock)
    await sign_in(client, emails["secretary"])
    page = await client.get(f"/projects/{w.project_id}")
    form_key = re.search(r'name="form_key" value="([^"]+)"', page.text)
    assert form_key is not None
    closes = (clock.now + timedelta(weeks=8)).strftime("%Y-%m-%dT%H:%M")
    form = {"type": "CD", "closes_at": closes, "open_now": "yes", "form_key": form_key.group(1)}
    form["_csrf"] = token(page.text)

    async def failing_snapshot(*_: Any, **__: Any) -> Any:
        raise Conflict("The member list could not be read.")

    # The open fails after the draft row and its event were written in the transaction.
    monkeypatch.setattr(ballot_use_cases, "_snapshot", failing_snapshot)
    before = await _last_event(client)
    for _ in range(2):
        failed = await client.post(f"/projects/{w.project_id}/ballots", data=form)
        assert failed.status_code == 409 and "The member list could not be read." in failed.text
        assert 'value="CD" selected' in failed.text  # what was chosen is kept
    assert await _ballots(client, w.project_id) == []
    assert await _last_event(client) == before

    monkeypatch.undo()
    created = await client.post(f"/projects/{w.project_id}/ballots", data=form)
    assert "The ballot is created and open." in created.text
    again = await client.post(f"/projects/{w.project_id}/ballots", data=form)
    assert "This form was already sent; here is the ballot it created." in again.text
    made = await _ballots(client, w.project_id)
    assert [(b["type"], b["status"]) for b in made] == [("CD", "open")]
    # A form shown afresh has a new key and makes a new ballot.
    fresh = await client.get(f"/projects/{w.project_id}")
    assert form_key.group(1) not in fresh.text
