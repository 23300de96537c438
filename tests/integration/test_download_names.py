"""Downloads are named after the project, whatever its reference holds: RFC 6266 `filename*` in
UTF-8 with an ASCII fallback, and nothing from the reference reaches the header as syntax."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from litestar.testing import AsyncTestClient

from services.http.downloads import attachment
from services.platform.db import Database
from tests.conftest import Clock
from tests.integration.test_uploads import build_table
from tests.world import ADMIN, World

NASTY = [
    "ISO 5555 中文",
    "ISO 5556 — Ü",
    "ISO 5557\";filename*=UTF-8''evil.exe;x=\"",
]


@pytest.mark.parametrize("reference", NASTY)
async def test_a_table_of_any_project_downloads_under_its_name(
    client: AsyncTestClient,
    clock: Clock,
    db: Database,
    reference: str,  # type: ignore[type-arg]
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"], reference=reference)
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", status=201)
    await build_table(db, ballot_id)
    response = await client.get(f"/api/v1/ballots/{ballot_id}/comment-table.docx", headers=ADMIN)
    assert response.status_code == 200, response.text
    header = response.headers["content-disposition"]
    params = _parameters(header)
    assert set(params) == {"filename", "filename*"}, header
    assert params["filename"].isascii()
    name = unquote(params["filename*"].removeprefix("UTF-8''"))
    assert reference.split(" ", 1)[1].split('"')[0].replace(" ", "_") in name and name.endswith(".docx")


def _parameters(header: str) -> dict[str, str]:
    """The header's parameters: exactly the two names wanted, nothing injected beside them."""
    kind, _, rest = header.partition(";")
    assert kind.strip() == "attachment" and rest.count("=") == 2, header
    found = dict(re.findall(r'\s*([A-Za-z*]+)=("[^"]*"|[^;\s]*)\s*(?:;|$)', rest))
    return {k: v.strip('"') for k, v in found.items()}


def test_the_fallback_name_is_plain_ascii_and_quotes_nothing_it_should_not() -> None:
    headers = attachment(b"", 'a"b\\c;d\r\n中.docx', "application/octet-stream").headers
    value = headers["Content-Disposition"]
    assert "\r" not in value and "\n" not in value
    assert value.startswith("attachment; filename=\"a_b_c_d___.docx\"; filename*=UTF-8''")


async def test_the_csv_says_its_charset_once(client: AsyncTestClient, clock: Clock) -> None:  # type: ignore[type-arg]
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    response = await client.get(f"/api/v1/ballots/{ballot_id}/comments.csv", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


async def test_the_api_takes_json_bodies_only(client: AsyncTestClient, clock: Clock) -> None:  # type: ignore[type-arg]
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    url, headers = f"/api/v1/ballots/{ballot_id}/votes/DE", w.headers["DE"]
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        sent = await client.put(
            url, content=b'{"position": "approve"}', headers={**headers, "Content-Type": content_type}
        )
        assert sent.status_code == 415, (content_type, sent.text)
        assert sent.headers["content-type"].startswith("application/problem+json")
    taken = await client.put(
        url, content=b'{"position": "approve"}', headers={**headers, "Content-Type": "application/json"}
    )
    assert taken.status_code == 201
