"""Word 97-2003 (.doc) and OpenDocument (.odt) uploads, converted by LibreOffice (issue #18 item 1).

The test files are made here the way committees make them: the filled template saved as .doc or
.odt by LibreOffice. Skipped where LibreOffice is not installed (CI installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from services.documents.reader import parse_national_comments
from services.documents.safety import OLD_DOC, convertible_format
from services.platform.conversion import Converter
from services.rules.errors import UnsupportedUpload
from tests.docx_factory import comment_docx, row8
from tests.world import World, ok

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")

ROWS = [
    row8("DE-001", "17", "3.1", "Table 1", "te", "The definition is circular.", "Define it in terms of X."),
    row8("DE-002", "", "04.01.3", "", "ed", "Typo: 'teh'.", "Replace with 'the'."),
]


def saved_as(data: bytes, extension: str, where: Path) -> bytes:
    """`data` (.docx) saved by LibreOffice as `extension`, as a secretariat's old Word would."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "filled.docx").write_bytes(data)
    assert SOFFICE is not None
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(where / 'profile').as_uri()}",
            "--convert-to",
            extension,
            "--outdir",
            str(where),
            str(where / "filled.docx"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return (where / f"filled.{extension}").read_bytes()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    where = tmp_path_factory.mktemp("conversion")
    docx = comment_docx(ROWS)
    table = comment_docx([row8("FR-001", "", "5", "", "te", "Clause 5 conflicts with ISO 9001.", "Align it.")])
    return {
        "docx": docx,
        "doc": saved_as(docx, "doc", where),
        "odt": saved_as(docx, "odt", where),
        "table_odt": saved_as(table, "odt", where / "table"),
    }


def converter(**overrides: Any) -> Converter:
    options: dict[str, Any] = {"timeout": 60.0, "memory_mb": 2048, "at_once": 2} | overrides
    return Converter(SOFFICE, **options)


def leftovers() -> list[str]:
    found = subprocess.run(["pgrep", "-af", "ballotdesk-convert-"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def test_formats_are_told_from_the_content(files: dict[str, bytes]) -> None:
    assert convertible_format(files["doc"]) == ".doc"
    assert convertible_format(files["odt"]) == ".odt"
    assert convertible_format(files["docx"]) == ""
    # An OLE2 container without a Word stream (an encrypted .docx, an .xls) is not converted.
    assert convertible_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512) == ""


@pytest.mark.parametrize("kind", ["doc", "odt"])
async def test_a_converted_file_reads_as_the_docx_it_was_saved_from(files: dict[str, bytes], kind: str) -> None:
    converted = await converter().as_docx(files[kind])
    assert converted.converted_from == f".{kind}"
    rows, problems = parse_national_comments(converted.data, "DE", {})
    assert problems == []
    assert [(r.original_reference, r.clause, r.type, r.comment, r.proposed_change) for r in rows] == [
        (r[0], r[2], r[4], r[5], r[6]) for r in ROWS
    ]
    assert leftovers() == []


async def test_a_docx_is_not_converted(files: dict[str, bytes]) -> None:
    same = await converter().as_docx(files["docx"])
    assert (same.data, same.converted_from) == (files["docx"], "")


async def test_a_conversion_past_its_time_limit_is_refused_and_leaves_no_process(files: dict[str, bytes]) -> None:
    started = time.monotonic()
    with pytest.raises(UnsupportedUpload, match=r"took longer than 0\.2 s"):
        await converter(timeout=0.2).as_docx(files["doc"])
    assert time.monotonic() - started < 10
    assert leftovers() == []


async def test_a_converter_over_its_memory_limit_refuses_the_file_clearly(files: dict[str, bytes]) -> None:
    with pytest.raises(UnsupportedUpload, match=r"could not read this \.doc file"):
        await converter(memory_mb=64).as_docx(files["doc"])
    assert leftovers() == []


async def test_without_libreoffice_the_old_message_stays(files: dict[str, bytes]) -> None:
    unchanged = await Converter(None, timeout=60, memory_mb=2048, at_once=1).as_docx(files["doc"])
    assert unchanged.converted_from == ""
    with pytest.raises(Exception, match="old binary Word"):
        parse_national_comments(unchanged.data, "DE", {})
    assert "save it as .docx" in OLD_DOC


async def test_a_body_uploads_its_doc_and_the_secretary_an_odt_table(
    client: Any, clock: Any, files: dict[str, bytes]
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    uploaded = await client.post(
        f"/api/v1/ballots/{ballot_id}/comments/DE/upload",
        files={"file": ("comments.doc", files["doc"], "application/msword")},
        headers=w.headers["DE"],
    )
    body = await ok(uploaded, 201)
    assert body["converted_from"] == ".doc"
    assert [c["comment"] for c in body["comments"]] == [r[5] for r in ROWS]
    assert [c["original_reference"] for c in body["comments"]] == ["DE-001", "DE-002"]

    imported = await client.post(
        f"/api/v1/ballots/{ballot_id}/compiled/upload",
        files={"file": ("table.odt", files["table_odt"], "application/vnd.oasis.opendocument.text")},
        headers=w.headers["secretary"],
    )
    assert (await ok(imported, 201)) == {"imported": 1, "skipped": [], "converted_from": ".odt"}

    # DE submitted its comments itself, so a compiled table may not replace them (#12 item 2),
    # converted or not.
    refused = await client.post(
        f"/api/v1/ballots/{ballot_id}/compiled/upload",
        files={"file": ("table.doc", files["doc"], "application/msword")},
        headers=w.headers["secretary"],
    )
    assert refused.status_code == 409, refused.text
    assert "DE" in refused.json()["detail"]
