"""One collation run in a fresh process, so peak memory (ru_maxrss) belongs to it alone.

``python -m tests.bench.collation_child MODE N OUT [DATABASE_URL BALLOT_ID]`` prints one JSON
line: seconds (build + save), rows, peak RSS MB, and the RSS before the build.
MODE: ``service`` (request + ``services.usecases.collation.build``: read from the database, render, store),
``naive`` (python-docx ``add_row()`` + ``cell.text``), ``raw`` (WordprocessingML streamed into the zip).
"""

from __future__ import annotations

import asyncio
import io
import json
import resource
import sys
import time
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WIDTHS = (606, 908, 1209, 1209, 1115, 4177, 4233, 2419)
HEADINGS = (
    "MB/NC",
    "Line number",
    "Clause/ Subclause",
    "Paragraph/ Figure/ Table/ Note",
    "Type of comment",
    "Comments",
    "Proposed change",
    "Observations of the secretariat",
)
KEYS = ("reference", "line", "clause", "element", "type", "comment", "proposed_change", "observation")


def _peak_mb() -> float:
    """VmHWM: the peak RSS of this process image (ru_maxrss would carry the parent's peak over
    fork + exec on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive(rows: list[dict[str, Any]], out: Path) -> None:
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    table = document.add_table(rows=1, cols=8)
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, HEADINGS, strict=True):
        cell.text = heading
    for row in rows:
        cells = table.add_row().cells
        for i, key in enumerate(KEYS):
            cells[i].text = row[key]
    document.save(str(out))


def _cell(width: int, text: str) -> str:
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
        f'<w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p></w:tc>'
    )


def raw(rows: list[dict[str, Any]], out: Path) -> None:
    """The practical limit: the other parts from python-docx's default template, the document part
    written as a text stream in chunks of 500 rows."""
    import docx

    template = io.BytesIO()
    docx.Document().save(template)
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in WIDTHS)
    head = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W_NS}"><w:body>'
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>"
        "<w:tr>" + "".join(_cell(w, h) for w, h in zip(WIDTHS, HEADINGS, strict=True)) + "</w:tr>"
    )
    tail = (
        '</w:tbl><w:p/><w:sectPr><w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/>'
        '<w:pgMar w:top="850" w:right="850" w:bottom="850" w:left="850" w:header="567" w:footer="567" w:gutter="0"/>'
        "</w:sectPr></w:body></w:document>"
    )
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info.filename, src.read(info))
        with dst.open("word/document.xml", "w") as part:
            part.write(head.encode())
            for start in range(0, len(rows), 500):
                chunk = []
                for row in rows[start : start + 500]:
                    chunk.append(
                        "<w:tr>" + "".join(_cell(w, row[k]) for w, k in zip(WIDTHS, KEYS, strict=True)) + "</w:tr>"
                    )
                part.write("".join(chunk).encode())
            part.write(tail.encode())


async def service(url: str, ballot_id: int, out: Path) -> int:
    from schemas.tables import Document
    from schemas.types import utcnow
    from services.platform.db import Database
    from services.rules.actors import COLLATION
    from services.usecases import ballots, collation

    db = Database(url)
    try:
        async with db.transaction() as s:
            ballot = await ballots.get_ballot(s, ballot_id)
            document = await collation.request(s, COLLATION, ballot, collation.COMMENT_TABLE, "clause", utcnow())
            document_id = document.id
        assert document_id is not None
        built = await collation.build(db, document_id)
        assert built is not None and built.status == "ready", built
        async with db.transaction() as s:
            stored = await s.get(Document, document_id)
            assert stored is not None and stored.content
            out.write_bytes(stored.content)
            return stored.rows
    finally:
        await db.dispose()


def main() -> None:
    mode, n, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    from tests.bench import seed

    rows = seed.comment_rows(n, seed.body_codes(170)) if mode != "service" else []
    if mode != "service":
        import docx  # noqa: F401 - imported before the clock, as the service has it imported

    before = _peak_mb()
    started = time.perf_counter()
    if mode == "naive":
        naive(rows, out)
        count = n
    elif mode == "raw":
        raw(rows, out)
        count = n
    else:
        import services.usecases.collation  # noqa: F401 - imports before the clock

        before = _peak_mb()
        started = time.perf_counter()
        count = asyncio.run(service(sys.argv[4], int(sys.argv[5]), out))
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "mode": mode,
                "n": n,
                "rows": count,
                "seconds": seconds,
                "peak_mb": round(_peak_mb(), 1),
                "rss_before_mb": round(before, 1),
                "size": out.stat().st_size,
            }
        )
    )


if __name__ == "__main__":
    main()
