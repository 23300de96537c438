"""Upload abuse and hostile text through the HTTP API (issue 7, item 4), on both databases.

The file-level checks (zip bombs, XXE, billion laughs, .docm, PDF renamed, deep nesting, invalid
UTF-8 and control characters inside the XML) are unit tests of `services.documents.safety`
(tests/unit/test_docx_safety.py); the zip bomb and a PDF renamed .docx also go through the API in
tests/integration/test_uploads.py. Here, through the API and against every upload endpoint:
a 50 MB file, a 100,000-row template and comment set, control characters and invalid UTF-8 in
JSON, paths, query strings, file names and file content, and the spreadsheet-formula
neutralisation of every dangerous first character in the CSV and XLSX exports. Each refusal
must be a clear 4xx problem that wrote nothing; whatever is accepted must come back out of the
CSV, XLSX and Word exports intact.
"""

from __future__ import annotations

import csv
import io
import re
import time
import tracemalloc
import zipfile
from typing import Any

import docx
import openpyxl

from schemas.tables import Ballot
from services.platform.db import Database
from services.rules.actors import COLLATION
from services.usecases import collation
from tests.docx_factory import comment_docx, many_rows, read_part, rezip, row8
from tests.reliability.conftest import Figures
from tests.world import ADMIN, World, ok

PROBLEM = "application/problem+json"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTROL = "".join(chr(c) for c in range(1, 32) if chr(c) not in "\t\n\r") + "\x7f\u0085\u2028"


async def last_event(client: Any) -> int:
    page = await ok(await client.get("/api/v1/events?after=0&limit=1000", headers=ADMIN))
    after = int(page["next_after"])
    while page["items"]:
        page = await ok(await client.get(f"/api/v1/events?after={after}&limit=1000", headers=ADMIN))
        after = int(page["next_after"])
    return after


def assert_clear_refusal(response: Any, *statuses: int) -> dict[str, Any]:
    assert response.status_code in statuses, f"{response.status_code}: {response.text[:300]}"
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert len(body["detail"]) > 20 and body["detail"].endswith("."), body["detail"]
    return body


async def dis(client: Any, clock: Any) -> tuple[World, int]:
    w = await World(client, clock).build(p=["DE", "FR"])
    return w, await w.ballot("DIS")


def template_with_rows(n: int) -> bytes:
    """A filled template of `n` rows, made by repeating one row's XML (the factory would take minutes)."""
    one = comment_docx(many_rows(1))
    xml = read_part(one, "word/document.xml")
    row = list(re.finditer(rb"<w:tr[ >].*?</w:tr>", xml, re.DOTALL))[-1]
    return rezip(one, replace={"word/document.xml": xml[: row.start()] + row.group(0) * n + xml[row.end() :]})


def dialect(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


def upload(data: bytes, name: str = "comments.docx") -> dict[str, Any]:
    return {"file": (name, data, DOCX)}


async def test_a_50_mb_file_is_refused_with_413_on_every_upload_endpoint(
    client: Any, clock: Any, figures: Figures, database_url: str
) -> None:
    w, ballot_id = await dis(client, clock)
    big = b"PK\x03\x04" + b"\0" * (50 * 1024 * 1024)
    before = await last_event(client)
    endpoints = [
        (f"/api/v1/ballots/{ballot_id}/comments/DE/upload", w.headers["DE"]),
        (f"/api/v1/ballots/{ballot_id}/observations/upload", w.headers["secretary"]),
        (f"/api/v1/ballots/{ballot_id}/compiled/upload", w.headers["secretary"]),
    ]
    for url, headers in endpoints:
        started = time.perf_counter()
        response = await client.post(url, files=upload(big, "huge.docx"), headers=headers)
        body = assert_clear_refusal(response, 413)
        assert "larger" in body["detail"], body
        assert time.perf_counter() - started < 10
    # The JSON endpoints have their own, smaller limits.
    vote = {"position": "disapprove", "reasons": "x" * (50 * 1024 * 1024)}
    response = await client.put(f"/api/v1/ballots/{ballot_id}/votes/DE", json=vote, headers=w.headers["DE"])
    assert_clear_refusal(response, 413)
    assert await last_event(client) == before
    assert await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=ADMIN)) == []
    figures.add(f"upload of 50 MB, 4 endpoints ({dialect(database_url)})", cases=4, refusals=4, errors=0)


async def test_a_100000_row_template_is_refused_clearly_and_writes_nothing(
    client: Any, clock: Any, figures: Figures, database_url: str
) -> None:
    w, ballot_id = await dis(client, clock)
    rows = 100_000
    data = template_with_rows(rows)
    before = await last_event(client)
    started = time.perf_counter()
    response = await client.post(
        f"/api/v1/ballots/{ballot_id}/comments/DE/upload", files=upload(data), headers=w.headers["DE"]
    )
    elapsed = time.perf_counter() - started
    # Over the upload limit (413) or over the unpacked-size limits (415): either way, said clearly.
    body = assert_clear_refusal(response, 413, 415)
    assert elapsed < 60, f"took {elapsed:.1f} s to refuse"
    assert await last_event(client) == before
    assert await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=ADMIN)) == []
    figures.add(
        f"{rows:,}-row template upload ({dialect(database_url)})",
        cases=1,
        refusals=1,
        errors=0,
        size_mb=round(len(data) / 1e6, 1),
        status=response.status_code,
        seconds=round(elapsed, 1),
        detail=body["detail"][:40],
    )


def parts_of_zeros(count: int, size: int = 1_000_000) -> bytes:
    """A filled template plus `count` parts of `size` zeros: tiny on the wire (each part deflates
    a thousandfold), each part under the zip-bomb ratio check's 1 MB threshold."""
    zeros = bytes(size)
    return rezip(comment_docx(many_rows(3)), add={f"word/media/zeros{i}.bin": zeros for i in range(count)})


async def test_a_docx_of_190_one_mb_parts_is_refused_from_its_zip_directory(
    client: Any, clock: Any, figures: Figures, database_url: str
) -> None:
    """Issue 12, item 8: 190 × 1 MB of zeros in a 200 kB file grew the server by 180 MB. Refused
    (413, naming the limit) on every upload endpoint before anything is inflated."""
    w, ballot_id = await dis(client, clock)
    data = parts_of_zeros(190)
    assert len(data) < 400_000
    before = await last_event(client)
    endpoints = [
        (f"/api/v1/ballots/{ballot_id}/comments/DE/upload", w.headers["DE"]),
        (f"/api/v1/ballots/{ballot_id}/compiled/upload", w.headers["secretary"]),
        (f"/api/v1/ballots/{ballot_id}/observations/upload", w.headers["secretary"]),
    ]
    growth: list[int] = []
    for path, headers in endpoints:
        tracemalloc.start()
        try:
            response = await client.post(path, files=upload(data), headers=headers)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        growth.append(peak)
        body = assert_clear_refusal(response, 413)
        assert body["limit"] == "upload_max_inflated_bytes", body
        assert "upload_max_inflated_bytes" in body["detail"]
    assert await last_event(client) == before
    assert await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=ADMIN)) == []
    # The same file within the limits (60 parts) is still taken: the limit, not the shape, refused it.
    taken = await client.post(
        f"/api/v1/ballots/{ballot_id}/comments/DE/upload", files=upload(parts_of_zeros(60)), headers=w.headers["DE"]
    )
    assert taken.status_code == 201, taken.text[:300]
    figures.add(
        f"190 x 1 MB parts in a .docx, 3 endpoints ({dialect(database_url)})",
        cases=3,
        refusals=3,
        errors=0,
        wire_kb=round(len(data) / 1000),
        declared_mb=190,
        peak_traced_mb=round(max(growth) / 1e6, 1),
    )


async def test_a_100000_row_comment_set_is_refused_and_the_largest_allowed_one_is_taken(
    client: Any, clock: Any, figures: Figures, database_url: str
) -> None:
    w, ballot_id = await dis(client, clock)
    url = f"/api/v1/ballots/{ballot_id}/comments/DE"
    before = await last_event(client)
    too_many = {"comments": [{"comment": f"c{i}"} for i in range(100_000)]}
    body = assert_clear_refusal(await client.put(url, json=too_many, headers=w.headers["DE"]), 400)
    assert "5000" in body["detail"], body["detail"]
    assert await last_event(client) == before
    largest = {"comments": [{"clause": f"{i % 40}.{i % 7}", "comment": f"Comment {i}."} for i in range(5000)]}
    started = time.perf_counter()
    stored = await ok(await client.put(url, json=largest, headers=w.headers["DE"]), 201)
    elapsed = time.perf_counter() - started
    assert len(stored["comments"]) == 5000 and stored["comments"][-1]["reference"] == "DE-5000"
    figures.add(
        f"comment set of 100,000 rows, then 5,000 ({dialect(database_url)})",
        cases=2,
        refusals=1,
        errors=0,
        accept_s=round(elapsed, 2),
    )


async def test_control_characters_in_text_are_stored_or_refused_and_every_export_still_opens(
    client: Any, clock: Any, db: Database
) -> None:
    w, ballot_id = await dis(client, clock)
    hostile = f"before{CONTROL}after <b>bold</b> & 'quotes' \U0001f600"
    rows = {
        "comments": [
            {"clause": f"3{CONTROL}1", "line": "\x0b12", "comment": hostile, "proposed_change": "\x1b[31mred\x1b[0m"}
        ]
    }
    response = await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=rows, headers=w.headers["DE"])
    # One-line fields (clause, line) refuse control characters (issue 12, item 11): 400 or 422.
    assert response.status_code in (201, 400, 422), response.text[:300]
    if response.status_code != 201:
        body = assert_clear_refusal(response, 400, 422)
        assert "one line of text" in body["detail"]
        return
    stored = response.json()["comments"][0]
    assert stored["comment"].startswith("before") and stored["comment"].endswith("\U0001f600")
    sec = w.headers["secretary"]
    # CSV and XLSX open and hold the text (XLSX escapes what XML cannot carry).
    exported = await client.get(f"/api/v1/ballots/{ballot_id}/comments.csv", headers=sec)
    assert exported.status_code == 200
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"), newline="")))
    assert table[1][6].startswith("before") and "after <b>bold</b>" in table[1][6]
    workbook = await client.get(f"/api/v1/ballots/{ballot_id}/comments.xlsx", headers=sec)
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None and "after <b>bold</b>" in str(sheet.cell(row=2, column=7).value)
    # The Word table is built (the builder's work, in-process) and opens; the markup stays text.
    async with db.transaction() as session:
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        document = await collation.request(session, COLLATION, ballot, collation.COMMENT_TABLE, "clause", clock.now)
        document_id = document.id
    assert document_id is not None
    await collation.build(db, document_id)
    built = await client.get(f"/api/v1/ballots/{ballot_id}/comment-table.docx", headers=sec)
    assert built.status_code == 200, built.text[:200]
    text = "\n".join(c.text for t in docx.Document(io.BytesIO(built.content)).tables for r in t.rows for c in r.cells)
    assert "after <b>bold</b> & 'quotes'" in text, text[-500:]


async def test_invalid_utf8_and_control_characters_anywhere_in_a_request_get_a_4xx(client: Any, clock: Any) -> None:
    w, ballot_id = await dis(client, clock)
    de = {**w.headers["DE"], "content-type": "application/json"}
    before = await last_event(client)
    requests: list[tuple[str, str, dict[str, str], Any]] = [
        ("PUT", f"/api/v1/ballots/{ballot_id}/votes/DE", de, b'{"position": "approve", "reasons": "\xff\xfe"}'),
        ("PUT", f"/api/v1/ballots/{ballot_id}/votes/DE", de, b'{"position": "appr\xc3\x28ove"}'),
        ("PUT", f"/api/v1/ballots/{ballot_id}/comments/DE", de, b'{"comments": [{"comment": "caf\xc3"}]}'),
        ("PUT", f"/api/v1/ballots/{ballot_id}/comments/DE", de, b'{"comments": [{"comment": "a\x01b"}]}'),
        ("PUT", f"/api/v1/ballots/{ballot_id}/votes/D%FF", de, b'{"position": "approve"}'),
        ("PUT", f"/api/v1/ballots/{ballot_id}/votes/D%01", de, b'{"position": "approve"}'),
        ("GET", f"/api/v1/ballots/{ballot_id}/comments?body=%FF%FE", de, None),
        ("GET", f"/api/v1/ballots/{ballot_id}/comments?order=%C3%28", de, None),
        ("GET", "/api/v1/events?type=%FF&aggregate=%01", ADMIN, None),
        ("PUT", f"/api/v1/ballots/{ballot_id}/observations/DE%FF001", w.headers["secretary"], {"observation": "x"}),
    ]
    statuses = []
    for method, url, headers, body in requests:
        if isinstance(body, bytes):
            response = await client.request(method, url, headers=headers, content=body)
        else:
            response = await client.request(method, url, headers=headers, json=body)
        statuses.append(response.status_code)
        assert response.status_code < 500, f"{method} {url}: {response.status_code} {response.text[:200]}"
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith(PROBLEM), (url, response.text[:200])
    # A raw control character in JSON text is invalid JSON; the rest are refused or harmlessly read.
    assert statuses[:4] == [400, 400, 400, 400], statuses
    assert await last_event(client) == before


async def test_hostile_file_names_and_broken_xml_in_uploads_get_a_clear_refusal(client: Any, clock: Any) -> None:
    w, ballot_id = await dis(client, clock)
    url = f"/api/v1/ballots/{ballot_id}/comments/DE/upload"
    good = comment_docx([row8("DE-1", "1", "3", "", "te", "Fine.", "")])
    xml = read_part(good, "word/document.xml")
    broken = {
        "invalid UTF-8": rezip(good, replace={"word/document.xml": xml.replace(b"Fine.", b"Fi\xc3\x28ne \xff.")}),
        "raw control characters": rezip(good, replace={"word/document.xml": xml.replace(b"Fine.", b"Fi\x01\x02ne.")}),
        "a NUL": rezip(good, replace={"word/document.xml": xml.replace(b"Fine.", b"Fi\x00ne.")}),
    }
    before = await last_event(client)
    for name, data in broken.items():
        response = await client.post(url, files=upload(data), headers=w.headers["DE"])
        body = assert_clear_refusal(response, 415, 422)
        assert "Word" in body["detail"] or "damaged" in body["detail"], (name, body)
    assert await last_event(client) == before
    # The file name is only a label: control characters, a path, or bytes that are not UTF-8.
    names: list[bytes] = [b"../../etc/passwd.docx", b"a\x01b\x1b.docx", b"caf\xff\xfe.docx", b"x" * 5000 + b".docx"]
    for filename in names:
        # Built by hand: an HTTP client will not send a file name that is not UTF-8.
        boundary = b"----ballotdesk-test"
        form = (
            b"--" + boundary + b"\r\n"
            b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
            b"Content-Type: " + DOCX.encode() + b"\r\n\r\n" + good + b"\r\n--" + boundary + b"--\r\n"
        )
        headers = {**w.headers["DE"], "content-type": "multipart/form-data; boundary=" + boundary.decode()}
        response = await client.post(url, content=form, headers=headers)
        assert response.status_code in (200, 201, 400, 413, 415, 422), (
            filename[:20],
            response.status_code,
            response.text,
        )
        if response.status_code >= 400:
            assert_clear_refusal(response, response.status_code)


async def test_every_formula_start_is_neutralised_in_csv_and_xlsx_whatever_the_column(client: Any, clock: Any) -> None:
    w, ballot_id = await dis(client, clock)
    starts = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\tTAB", "\rCR", '=HYPERLINK("http://evil")']
    rows = {
        "comments": [
            # One-line fields take no tab or CR (issue 12, item 11); the text fields still do.
            {"clause": o, "line": o[:90], "element": o, "comment": s, "proposed_change": s}
            for s, o in ((s, s.lstrip("\t\r")) for s in starts)
            if s.strip()
        ]
    }
    stored = await ok(
        await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=rows, headers=w.headers["DE"]), 201
    )
    # The comment text is stripped on the way in; what is stored is what must be neutralised.
    kept = {c["comment"] for c in stored["comments"]}
    # An uploaded template's cells too.
    template = comment_docx([row8("", "-5", "+3", "@A1", "te", "=cmd /C calc!A0", "-2+3")])
    await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/comments/FR/upload", files=upload(template), headers=w.headers["FR"]
        ),
        201,
    )
    sec = w.headers["secretary"]
    csv_rows = list(
        csv.reader(
            io.StringIO(
                (await client.get(f"/api/v1/ballots/{ballot_id}/comments.csv", headers=sec)).content.decode(
                    "utf-8-sig"
                ),
                newline="",
            )
        )
    )
    sheet = openpyxl.load_workbook(
        io.BytesIO((await client.get(f"/api/v1/ballots/{ballot_id}/comments.xlsx", headers=sec)).content)
    ).active
    assert sheet is not None
    xlsx_rows = [[c.value or "" for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(csv_rows) - 1 == len(xlsx_rows) == len(kept) + 1
    for cells in [*csv_rows[1:], *xlsx_rows]:
        for value in cells:
            assert not str(value).startswith(("=", "+", "-", "@", "\t", "\r")), cells
    for row in sheet.iter_rows(min_row=2):
        assert all(c.data_type == "s" for c in row if c.value is not None)
    assert any(v == "'=cmd /C calc!A0" for row in csv_rows for v in row), repr([r for r in csv_rows if r[0] == "FR"])
    assert any(v == "'-5" for row in xlsx_rows for v in row)
    with zipfile.ZipFile(
        io.BytesIO((await client.get(f"/api/v1/ballots/{ballot_id}/comments.xlsx", headers=sec)).content)
    ) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
