"""Files in and out of both faces: the media types, the upload limit, attachments, spreadsheets."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Sequence
from typing import Literal
from urllib.parse import quote

from litestar import Response

from schemas.comments import CompiledRow
from services.documents import spreadsheets
from services.documents.comment_table import write_comment_table
from services.documents.safety import MAX_UPLOAD_BYTES
from services.documents.table_frame import TableInfo
from services.documents.table_rows import TableRow

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"  # litestar adds the charset to text types
_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._-]")
# Multipart framing around the file.
UPLOAD_LIMIT = MAX_UPLOAD_BYTES + 64_000


def content_disposition(filename: str) -> str:
    """RFC 6266: the name in UTF-8 (`filename*`, percent-encoded, so nothing in it is header
    syntax) and a plain-ASCII fallback for clients that read only `filename`."""
    fallback = _NOT_PLAIN.sub("_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment(content: bytes, filename: str, media_type: str, checksum: str = "") -> Response[bytes]:
    headers = {"Content-Disposition": content_disposition(filename)}
    if checksum:
        headers["ETag"] = f'"{checksum}"'
    return Response(content, media_type=media_type, headers=headers)


async def comments_sheet(rows: Sequence[CompiledRow], ballot_id: int, kind: Literal["csv", "xlsx"]) -> Response[bytes]:
    """The comments as CSV or XLSX, built in a thread: 20,000 rows take long enough to stall
    every other request of the process if built on its event loop."""
    if kind == "csv":
        content = await asyncio.to_thread(spreadsheets.to_csv, rows)
        return attachment(content, f"ballot-{ballot_id}-comments.csv", CSV)
    content = await asyncio.to_thread(spreadsheets.to_xlsx, rows, f"Ballot {ballot_id}")
    return attachment(content, f"ballot-{ballot_id}-comments.xlsx", XLSX)


async def body_template(info: TableInfo, rows: Sequence[TableRow], filename: str) -> Response[bytes]:
    """A body's filled template, built in a thread (a few hundred rows: well under a second)."""

    def build() -> bytes:
        out = io.BytesIO()
        write_comment_table(info, rows, out)
        return out.getvalue()

    return attachment(await asyncio.to_thread(build), filename, DOCX)
