"""A body's comments uploaded as .xlsx or .csv through the API and the ballot page (#14 item 8), and
the body's own filled template, downloaded and uploaded back (item 9)."""

from __future__ import annotations

import io
from typing import Any

import docx

from tests.integration.test_web_pages import committee, sign_in, token
from tests.unit.test_sheet_upload import HEADINGS, comment, xlsx
from tests.world import ADMIN, World, ok

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


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


async def versions(client: Any, ballot_id: int, w: World) -> list[int]:
    found = await ok(await client.get(f"/api/v1/events?aggregate=ballot:{ballot_id}&limit=1000", headers=ADMIN))
    return [e["id"] for e in found["items"] if e["type"].startswith("comments.")]


async def test_a_bodys_template_round_trips(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    own = {
        "comments": [
            {"clause": "3.1", "line": "17", "type": "te", "comment": "Unclear & vague.", "proposed_change": "Say X."},
            {"clause": "General", "type": "ed", "comment": "Typos.\nSeveral."},
        ]
    }
    await ok(await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=own, headers=w.headers["DE"]), 201)
    url = f"/api/v1/ballots/{ballot_id}/comments/DE/template.docx"
    response = await client.get(url, headers=w.headers["DE"])
    assert response.status_code == 200, response.text
    template = docx.Document(io.BytesIO(response.content))
    header = [c.text for c in template.sections[0].header.tables[0].rows[0].cells]
    assert (
        header[1].startswith("Date: ")
        and header[2].startswith("Document: ISO/DIS")
        and header[3].startswith("Project:")
    )
    # In the body's order, its references in the MB/NC cell (DE-001 …), no observations.
    assert [[c.text for c in r.cells] for r in template.tables[0].rows] == [
        ["DE", "17", "3.1", "", "te", "Unclear & vague.", "Say X.", ""],
        ["DE", "", "General", "", "ed", "Typos.\nSeveral.", "", ""],
    ]
    before = await versions(client, ballot_id, w)
    upload_url = f"/api/v1/ballots/{ballot_id}/comments/DE/upload"
    same = await ok(
        await client.post(upload_url, files={"file": ("t.docx", response.content, DOCX)}, headers=w.headers["DE"])
    )
    assert await versions(client, ballot_id, w) == before  # unchanged: no new version, no event
    # One cell edited: one new version, that cell changed.
    row = template.tables[0].rows[0]
    row.cells[5].paragraphs[0].runs[0].text = "Edited offline."
    edited = io.BytesIO()
    template.save(edited)
    changed = await ok(
        await client.post(upload_url, files={"file": ("t.docx", edited.getvalue(), DOCX)}, headers=w.headers["DE"])
    )
    assert changed["set_version"] == same["set_version"] + 1
    assert len(await versions(client, ballot_id, w)) == len(before) + 1
    assert [c["comment"] for c in changed["comments"]] == ["Edited offline.", "Typos.\nSeveral."]
    assert [c["reference"] for c in changed["comments"]] == [c["reference"] for c in same["comments"]]


async def test_a_body_without_comments_gets_a_blank_form_and_another_body_gets_none(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    blank = await client.get(f"/api/v1/ballots/{ballot_id}/comments/DE/template.docx", headers=w.headers["DE"])
    assert blank.status_code == 200
    rows = docx.Document(io.BytesIO(blank.content)).tables[0].rows
    assert len(rows) == 1 and all(not c.text for c in rows[0].cells)
    other = await client.get(f"/api/v1/ballots/{ballot_id}/comments/FR/template.docx", headers=w.headers["DE"])
    assert other.status_code == 403
