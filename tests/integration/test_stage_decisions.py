"""Issue #13 item 4: a stage decision without a ballot, from the project page: only the moves
the table allows, with a reason, in the stage history and the record."""

from __future__ import annotations

import re
from typing import Any

from schemas.enums import Deliverable
from services.rules import stage_decisions
from tests.integration.test_web_pages import committee, sign_in, token
from tests.world import ADMIN, ok


def _offered(html: str) -> list[str]:
    return re.findall(r'name="stage_decision" value="([0-9.]+)"', html)


async def test_an_awi_goes_to_20_99_and_on_to_a_cd_with_its_reason_recorded(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock, stage="20.00")
    await sign_in(client, emails["secretary"])
    page = await client.get(f"/projects/{w.project_id}")
    assert _offered(page.text) == ["20.99", "20.98"]
    csrf = token(page.text)
    no_reason = await client.post(f"/projects/{w.project_id}/stage", data={"stage_decision": "20.99", "_csrf": csrf})
    assert no_reason.status_code == 422 and re.search(r'id="stage_reason-error">.*Give the reason', no_reason.text)
    not_offered = await client.post(
        f"/projects/{w.project_id}/stage", data={"stage_decision": "50.99", "stage_reason": "R.", "_csrf": csrf}
    )
    assert not_offered.status_code == 422
    assert re.search(
        r'id="stage_decision-error">.*50.99 is not a decision .* the choices are 20.99, 20.98', not_offered.text
    )
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "20.00"

    done = await client.post(
        f"/projects/{w.project_id}/stage",
        data={"stage_decision": "20.99", "stage_reason": "Resolution 12/2026, Berlin meeting.", "_csrf": csrf},
    )
    assert "The decision 20.99 is recorded; the project is at stage 30.00." in done.text
    assert (await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN)))["stage"] == "30.00"
    events = await ok(await client.get("/api/v1/events?type=project.stage_changed", headers=ADMIN))
    moves = [(e["payload"]["from_stage"], e["payload"]["to_stage"], e["payload"]["cause"]) for e in events["items"]]
    assert moves == [("20.00", "20.99", "stage decision"), ("20.99", "30.00", "stage decision")]
    assert {e["payload"]["reason"] for e in events["items"]} == {"Resolution 12/2026, Berlin meeting."}
    # At 30.00 the CD ballot is now offered; while it is open, no decision without it.
    assert "CD" in done.text and _offered(done.text) == ["30.99", "30.98"]
    ballot_id = await w.ballot("CD")
    page = await client.get(f"/projects/{w.project_id}")
    assert _offered(page.text) == [] and "A ballot is open on this project" in page.text
    refused = await client.post(
        f"/projects/{w.project_id}/stage", data={"stage_decision": "30.99", "stage_reason": "R.", "_csrf": csrf}
    )
    assert refused.status_code == 409 and f"Ballot {ballot_id} is open on this project" in refused.text


async def test_only_the_secretary_records_a_stage_decision(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock, stage="20.00")
    await sign_in(client, emails["convenor"])
    page = await client.get(f"/projects/{w.project_id}")
    assert "Stage decision" not in page.text
    refused = await client.post(
        f"/projects/{w.project_id}/stage",
        data={"stage_decision": "20.99", "stage_reason": "R.", "_csrf": token(page.text)},
    )
    assert refused.status_code == 403
    assert (await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN)))["stage"] == "20.00"


def test_the_moves_follow_the_deliverable() -> None:
    assert stage_decisions.allowed_moves(Deliverable.IS, "30.00")[0].path == ("30.99", "40.00")
    assert stage_decisions.allowed_moves(Deliverable.TS, "30.00")[0].path == ("30.99", "50.00")
    assert stage_decisions.allowed_moves(Deliverable.IS, "40.20") == ()
    for stage in ("00.00", "10.99", "20.00", "20.60", "30.00", "40.00", "50.00"):
        for m in stage_decisions.allowed_moves(Deliverable.IS, stage):
            assert m.path[0] > stage or m.code.endswith(".98"), (stage, m)
