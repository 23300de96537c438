"""Files in and out of both faces: the media types, the upload limit, attachments, spreadsheets."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

from litestar import Response

from schemas.comments import CompiledRow
from services.documents import spreadsheets
from services.documents.safety import MAX_UPLOAD_BYTES

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
# Multipart framing around the file.
UPLOAD_LIMIT = MAX_UPLOAD_BYTES + 64_000


def attachment(content: bytes, filename: str, media_type: str, checksum: str = "") -> Response[bytes]:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
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
