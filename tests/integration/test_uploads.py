"""Word files in and out through the API: a body's filled template, compiled tables from
elsewhere (the real committee files), the convenor's observations, CSV and XLSX."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import docx
import openpyxl
import pytest
from sqlmodel import select

from schemas.tables import Document
from services.platform.db import Database
from services.rules.actors import COLLATION
from services.usecases import collation
from tests import SHARED
from tests.docx_factory import comment_docx, many_rows, row8
from tests.world import ADMIN, World, ok

REAL = SHARED / "reference" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="real committee files not available")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def upload(data: bytes, name: str = "comments.docx") -> dict[str, Any]:
    return {"file": (name, data, DOCX)}


async def events(client: Any) -> int:
    return len((await ok(await client.get("/api/v1/events?limit=1000", headers=ADMIN)))["items"])


async def build_table(db: Database, ballot_id: int, variant: str = "clause") -> list[list[str]]:
    """Request and build the compiled table in-process (the builder's work, without a broker)."""
    async with db.transaction() as session:
        ballot = await session.get(collation.Ballot, ballot_id)
        assert ballot is not None
        document = await collation.request(
            session, COLLATION, ballot, collation.COMMENT_TABLE, variant, ballot.closes_at
        )
        assert document.id is not None
        document_id = document.id
    await collation.build(db, document_id)
    async with db.transaction() as session:
        stored = (await session.execute(select(Document).where(Document.id == document_id))).scalar_one()
        assert stored.status == "ready" and stored.content
        tables = docx.Document(io.BytesIO(stored.content)).tables
    return [[c.text for c in row.cells] for t in tables for row in t.rows]


async def test_a_filled_template_replaces_the_bodys_comments_keeping_its_own_numbering(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    data = comment_docx(
        [
            row8("DE-7", "12", "3.1", "", "TE", "The term is undefined.", "Define it."),
            row8("", "", "General", "", "Ed.", "Typos throughout."),
        ]
    )
    created = await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/comments/DE/upload", files=upload(data), headers=w.headers["DE"]
        ),
        201,
    )
    assert [(c["reference"], c["original_reference"], c["type"]) for c in created["comments"]] == [
        ("DE-001", "DE-7", "te"),
        ("DE-002", "", "ed"),
    ]


async def test_a_template_with_problems_is_refused_row_by_row_and_nothing_is_written(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    before = await events(client)
    data = comment_docx(
        [
            row8("DE", "1", "1", "", "te", "Fine."),
            row8("FR", "2", "2", "", "te", "Someone else's row."),
            row8("DE", "3", "3", "", "xx", "Unknown type."),
            row8("DE", "4", "4", "", "ed", ""),
        ]
    )
    refused = await client.post(
        f"/api/v1/ballots/{ballot_id}/comments/DE/upload", files=upload(data), headers=w.headers["DE"]
    )
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    rows = [p["row"] for p in refused.json()["problems"]]
    assert rows == [2, 3, 4]
    assert await events(client) == before


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512,
        b"not a word file at all",
    ],
    ids=["pdf-renamed", "binary-doc", "text"],
)
async def test_anything_but_a_word_file_gets_a_clear_415(client: Any, clock: Any, data: bytes) -> None:
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    refused = await client.post(
        f"/api/v1/ballots/{ballot_id}/comments/DE/upload", files=upload(data), headers=w.headers["DE"]
    )
    assert refused.status_code == 415, refused.text
    assert "Word" in refused.json()["detail"] or "word" in refused.json()["detail"]


async def test_a_zip_bomb_is_refused_before_it_is_inflated(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * 300_000_000)
    refused = await client.post(
        f"/api/v1/ballots/{ballot_id}/comments/DE/upload", files=upload(buffer.getvalue()), headers=w.headers["DE"]
    )
    assert refused.status_code == 415


async def test_a_5000_row_template_is_imported_whole(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    created = await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/comments/DE/upload",
            files=upload(comment_docx(many_rows(5000))),
            headers=w.headers["DE"],
        ),
        201,
    )
    assert len(created["comments"]) == 5000 and created["comments"][-1]["reference"] == "DE-5000"


REAL_FILES = [
    ("TC211_DIS19156ed2_comments-incl-TMG-CEN_om-swg_first.docx", 126),
    ("TC211_DIS19156ed2_comments-incl-TMG-CEN_om-swg_final-observations.docx", 126),
    ("TC211_DIS19156ed2_collated-comments_ISO-original_om-swg.doc", 119),
    ("TC211_DIS19156ed2_collated-comments_om-swg_v2-edited.docx", 126),
    ("TC211_N5600_DIS19168-2_compiled-comments_ogcapi-features.docx", 21),
    ("TC171SC2_ISO32000-extensions_compiled-comments_CommentHelper.docx", 3),
]


@needs_real
@pytest.mark.parametrize(("name", "count"), REAL_FILES, ids=[n.split("_")[0] + "-" + str(c) for n, c in REAL_FILES])
async def test_a_real_compiled_table_imports_and_exports_again_as_our_iso_table(
    client: Any, clock: Any, db: Database, name: str, count: int
) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "GB", "US", "CN"])
    ballot_id = await w.ballot("DIS")
    imported = await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/compiled/upload",
            files=upload((REAL / name).read_bytes(), name),
            headers=w.headers["secretary"],
        ),
        201,
    )
    assert imported["imported"] == count
    listed = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=w.headers["convenor"]))
    assert len(listed) == count
    table = await build_table(db, ballot_id)
    assert len(table) == count
    references = {c["reference"] for c in listed}
    assert all(any(ref in " ".join(row) for ref in references) for row in table)


@needs_real
async def test_observations_from_the_resolved_table_land_on_the_imported_comments(
    client: Any, clock: Any, db: Database
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    first = REAL / "TC211_DIS19156ed2_comments-incl-TMG-CEN_om-swg_first.docx"
    final = REAL / "TC211_DIS19156ed2_comments-incl-TMG-CEN_om-swg_final-observations.docx"
    await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/compiled/upload",
            files=upload(first.read_bytes(), first.name),
            headers=w.headers["secretary"],
        ),
        201,
    )
    done = await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/observations/upload",
            files=upload(final.read_bytes(), final.name),
            headers=w.headers["convenor"],
        )
    )
    assert done["updated"] == 126
    listed = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=w.headers["convenor"]))
    dispositions = [c["disposition"] for c in listed]
    assert (
        dispositions.count("accepted"),
        dispositions.count("accepted_in_principle"),
        dispositions.count("rejected"),
    ) == (108, 7, 11)
    # Our own table round-trips: exported, then uploaded again as observations, it matches every row.
    table = await build_table(db, ballot_id)
    assert sum("Accepted" in row[-1] for row in table) >= 115


async def test_csv_and_xlsx_exports_neutralise_formulas(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/DE",
            json={"comments": [{"clause": "1", "comment": '=HYPERLINK("http://x")', "proposed_change": "@SUM(A1)"}]},
            headers=w.headers["DE"],
        ),
        201,
    )
    sec = w.headers["secretary"]
    response = await client.get(f"/api/v1/ballots/{ballot_id}/comments.csv", headers=sec)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "MB/NC" and rows[1][6] == '\'=HYPERLINK("http://x")' and rows[1][7] == "'@SUM(A1)"
    response = await client.get(f"/api/v1/ballots/{ballot_id}/comments.xlsx", headers=sec)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.cell(row=2, column=7).value == '\'=HYPERLINK("http://x")'
    assert sheet.cell(row=2, column=7).data_type == "s"
    denied = await client.get(f"/api/v1/ballots/{ballot_id}/comments.csv", headers=w.headers["DE"])
    assert denied.status_code == 403  # while open, only the officers see every body's comments
