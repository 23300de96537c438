"""A body's comments uploaded as .xlsx or .csv through the API and the ballot page (#14 item 8)."""

from __future__ import annotations

from typing import Any

from tests.integration.test_web_pages import committee, sign_in, token
from tests.unit.test_sheet_upload import HEADINGS, comment, xlsx
from tests.world import ADMIN, World, ok

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def event_count(client: Any) -> int:
    return len((await ok(await client.get("/api/v1/events?limit=1000", headers=ADMIN)))["items"])


async def test_an_xlsx_and_then_a_csv_replace_the_bodys_comments(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    url = f"/api/v1/ballots/{ballot_id}/comments/DE/upload"
    data = xlsx([HEADINGS, comment(1), comment(2)])
    first = await ok(
        await client.post(url, files={"file": ("comments.xlsx", data, XLSX)}, headers=w.headers["DE"]), 201
    )
    assert [c["comment"] for c in first["comments"]] == ["Comment 1.", "Comment 2."]
    text = "\ufeff" + ";".join(HEADINGS) + "\r\nDE-009;;5.2;;ed;Only this one.;;\r\n"
    second = await ok(
        await client.post(url, files={"file": ("comments.csv", text.encode(), "text/csv")}, headers=w.headers["DE"])
    )
    assert [(c["clause"], c["comment"]) for c in second["comments"]] == [("5.2", "Only this one.")]


async def test_a_refused_sheet_names_its_row_and_writes_nothing(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    before = await event_count(client)
    data = xlsx([HEADINGS, comment(1), comment(2, "FR")])
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/comments/DE/upload",
        files={"file": ("comments.xlsx", data, XLSX)},
        headers=w.headers["DE"],
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "row 3" in response.json()["detail"].lower()
    assert await event_count(client) == before


async def test_the_ballot_page_takes_a_spreadsheet_too(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    await sign_in(client, emails["DE"])
    page = await client.get(f"/ballots/{ballot_id}")
    assert ".xlsx" in page.text and ".csv" in page.text
    response = await client.post(
        f"/ballots/{ballot_id}/upload",
        data={"body": "DE", "_csrf": token(page.text)},
        files={"file": ("comments.xlsx", xlsx([HEADINGS, comment(1)]), XLSX)},
    )
    assert response.status_code == 200, response.text
    assert "1 comments imported" in response.text
