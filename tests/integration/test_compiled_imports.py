"""A compiled table imported by the secretariat never replaces what a body submitted itself, and
no comment's text changes once the ballot has closed (issue 12, item 2; SPEC §2)."""

from __future__ import annotations

from typing import Any

from tests.docx_factory import comment_docx, row8
from tests.integration.test_uploads import upload
from tests.world import ADMIN, World, ok


def _table(*rows: list[str]) -> Any:
    return upload(comment_docx(list(rows)), "compiled.docx")


async def _comments(client: Any, w: World, ballot_id: int) -> dict[str, str]:
    listed = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=w.headers["convenor"]))
    return {c["reference"]: c["comment"] for c in listed}


async def test_an_import_never_replaces_a_bodys_own_comments(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    ballot_id = await w.ballot("DIS")
    own = {"comments": [{"clause": "4", "type": "te", "comment": "FR's own words."}]}
    await ok(await client.put(f"/api/v1/ballots/{ballot_id}/comments/FR", json=own, headers=w.headers["FR"]), 201)
    secretary = w.headers["secretary"]

    refused = await client.post(
        f"/api/v1/ballots/{ballot_id}/compiled/upload",
        files=_table(row8("DE-001", "1", "3.1", "", "te", "Unclear."), row8("FR-001", "2", "4", "", "te", "Forged.")),
        headers=secretary,
    )
    assert refused.status_code == 409, refused.text
    assert "FR" in refused.json()["detail"]
    assert await _comments(client, w, ballot_id) == {"FR-001": "FR's own words."}  # refused whole: no DE either

    # Rows of bodies that sent nothing themselves are taken; a second import replaces only those.
    await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/compiled/upload",
            files=_table(row8("DE-001", "1", "3.1", "", "te", "Unclear."), row8("JP-001", "5", "2", "", "ed", "Typo.")),
            headers=secretary,
        ),
        201,
    )
    await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/compiled/upload",
            files=_table(row8("DE-001", "1", "3.1", "", "te", "Unclear, said better.")),
            headers=secretary,
        ),
        201,
    )
    assert await _comments(client, w, ballot_id) == {
        "FR-001": "FR's own words.",
        "JP-001": "Typo.",
        "DE-001": "Unclear, said better.",
    }
    log = await ok(
        await client.get(f"/api/v1/events?aggregate=ballot:{ballot_id}&type=comments.imported", headers=ADMIN)
    )
    assert [e["payload"]["replaced"] for e in log["items"]] == [[], ["DE"]]

    # After close, a table may add the comments of a body that has none, and change no text.
    await w.close(ballot_id)
    changed = await client.post(
        f"/api/v1/ballots/{ballot_id}/compiled/upload",
        files=_table(row8("JP-001", "5", "2", "", "ed", "Typo, rewritten after close.")),
        headers=secretary,
    )
    assert changed.status_code == 409, changed.text
    assert "closed" in changed.json()["detail"]
    await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/compiled/upload",
            files=_table(row8("JP-001", "5", "2", "", "ed", "Typo."), row8("**-001", "", "", "", "ge", "From ISO/CS.")),
            headers=secretary,
        ),
        201,
    )
    assert (await _comments(client, w, ballot_id))["JP-001"] == "Typo."


async def test_an_uploaded_set_has_the_apis_row_cap(client: Any, clock: Any) -> None:
    from tests.reliability.test_uploads_at_scale import template_with_rows

    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    too_many = upload(template_with_rows(5001), "comments.docx")
    refused = await client.post(
        f"/api/v1/ballots/{ballot_id}/comments/DE/upload", files=too_many, headers=w.headers["DE"]
    )
    assert refused.status_code in (400, 422), refused.text
    assert "5,000" in refused.json()["detail"]
    assert await _comments(client, w, ballot_id) == {}
