"""One-line fields take one line (issue 12, item 11): a CR/LF in a project title once went into
e-mail subjects, where it made the mailer fail for ever, and into text logs, where it forged lines."""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, func, select

from schemas.tables import Delivery, Event
from services.platform.db import Database
from services.platform.logs import TextFormatter
from services.platform.settings import Settings
from tests.integration.test_web_pages import committee, sign_in, token
from tests.world import ADMIN, World, ok
from workers.consumers import Context, deliver

FORGED = "Service excellence\r\nBcc: everyone@example.org"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/member-bodies", {"code": "XX", "acronym": "XSI", "name": FORGED}),
        ("/api/v1/committees", {"reference": "ISO/TC 998", "title": FORGED}),
        ("/api/v1/users", {"name": "Eve\nAdmin", "email": "eve@example.org", "roles": []}),
    ],
)
async def test_a_one_line_field_with_a_line_break_is_refused(client: Any, path: str, body: dict[str, Any]) -> None:
    response = await client.post(path, json=body, headers=ADMIN)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_projects_and_comments_refuse_control_characters(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    secretary = w.headers["secretary"]
    project = {"committee_id": w.committee_id, "reference": "ISO 77", "deliverable": "IS", "stage": "40.00"}
    refused = await client.post("/api/v1/projects", json={**project, "title": FORGED}, headers=secretary)
    assert refused.status_code in (400, 422), refused.text
    ballot_id = await w.ballot("DIS")
    comment = {"comments": [{"clause": "4.1\x1b[31m", "comment": "A comment may hold\nseveral lines."}]}
    put = await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=comment, headers=w.headers["DE"])
    assert put.status_code in (400, 422), put.text
    comment["comments"][0]["clause"] = "4.1"
    await ok(await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=comment, headers=w.headers["DE"]), 201)


async def test_the_page_says_so_beside_the_field(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    await sign_in(client, emails["secretary"])
    page = await client.get(f"/committees/{w.committee_id}")
    form = {"reference": "ISO 78", "title": FORGED, "deliverable": "IS", "stage": "40.00", "_csrf": token(page.text)}
    refused = await client.post(f"/committees/{w.committee_id}/projects", data=form)
    assert refused.status_code == 422
    assert re.search(r'id="title-error">.*one line of text', refused.text)


async def test_a_mail_that_can_never_be_sent_is_recorded_once_and_not_retried(
    client: Any, clock: Any, db: Database, settings: Settings
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    async with db.transaction() as session:  # a title from before this check, or written by hand
        await session.execute(text("UPDATE project SET title = :t"), {"t": FORGED})
    ballot_id = await w.ballot("DIS")
    async with db.read() as session:
        opened = (
            await session.execute(
                select(Event.id).where(Event.type == "ballot.opened", Event.aggregate == f"ballot:{ballot_id}")
            )
        ).scalar_one()
    ctx = Context(db, settings)
    for _ in range(3):  # the broker delivering it again must not record it again
        await deliver(ctx, "mailer", opened)
    async with db.read() as session:
        failed = (
            await session.execute(select(func.count()).select_from(Event).where(Event.type == "notification.failed"))
        ).scalar_one()
        delivery = await session.get(Delivery, (opened, "mailer"))
        sent = (
            await session.execute(select(func.count()).select_from(Event).where(col(Event.type) == "notification.sent"))
        ).scalar_one()
    assert (failed, sent) == (1, 0)
    assert delivery is not None and delivery.done_at is not None


def test_text_logs_escape_line_breaks_in_messages() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    logger = logging.getLogger("ballotdesk.test.escape")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("title %s", FORGED)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert written.count("\n") == 1 and "Service excellence\\r\\nBcc: everyone@example.org" in written
