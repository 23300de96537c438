"""Word, CSV and XLSX: downloads and uploads of comment tables and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.tables import Document
from services.documents.safety import UploadLimits
from services.http import downloads
from services.http.downloads import UPLOAD_LIMIT
from services.platform.conversion import Converted, Converter
from services.rules.actors import Principal
from services.rules.errors import InvalidInput
from services.usecases import collation, imports
from services.views import presenters


@dataclass
class Upload:
    file: UploadFile


Multipart = Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)]


def _document(document: Document) -> Response[Any]:
    if document.status == "ready" and document.content is not None:
        return downloads.attachment(document.content, document.filename, downloads.DOCX, document.checksum)
    body = {
        "status": "building",
        "document_id": document.id,
        "detail": "The document is being built; try again shortly.",
    }
    return Response(body, status_code=202, headers={"Retry-After": "2"})


def _limits(request: Request[Any, Any, Any]) -> UploadLimits:
    return imports.upload_limits(request.app.state.settings)


async def _read(upload: Upload, converter: Converter) -> tuple[Converted, str]:
    data = await upload.file.read()
    if not data:
        raise InvalidInput("The uploaded file is empty.", field="file")
    # Before the use case's transaction: a conversion takes seconds and holds no lock.
    return await converter.as_docx(data), upload.file.filename or "upload.docx"


def _converted(content: Converted) -> dict[str, str]:
    return {"converted_from": content.converted_from} if content.converted_from else {}


class DocumentController(Controller):
    path = "/api/v1/ballots/{ballot_id:int}"
    tags = ["documents"]

    @get("/comment-table.docx", operation_id="GetCommentTable", opt={"writes": True})
    async def comment_table(
        self,
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        ballot_id: int,
        order: Literal["clause", "member"] = "clause",
    ) -> Response[Any]:
        return _document(await collation.comment_table(session, principal, ballot_id, order, now))

    @get("/report.docx", operation_id="GetResultsReport", opt={"writes": True})
    async def report(self, session: AsyncSession, principal: Principal, now: datetime, ballot_id: int) -> Response[Any]:
        return _document(await collation.report(session, principal, ballot_id, now))

    @get("/comments.csv", operation_id="GetCommentsCsv")
    async def csv(
        self, session: AsyncSession, principal: Principal, ballot_id: int, order: Literal["clause", "member"] = "clause"
    ) -> Response[bytes]:
        rows = await collation.downloadable_rows(session, principal, ballot_id, order)
        return await downloads.comments_sheet(rows, ballot_id, "csv")

    @get("/comments.xlsx", operation_id="GetCommentsXlsx")
    async def xlsx(
        self, session: AsyncSession, principal: Principal, ballot_id: int, order: Literal["clause", "member"] = "clause"
    ) -> Response[bytes]:
        rows = await collation.downloadable_rows(session, principal, ballot_id, order)
        return await downloads.comments_sheet(rows, ballot_id, "xlsx")

    @get("/comments/{code:str}/template.docx", operation_id="GetBodyTemplate")
    async def body_template(
        self, session: AsyncSession, principal: Principal, now: datetime, ballot_id: int, code: str
    ) -> Response[bytes]:
        """The body's comments in the ISO commenting template, to edit offline and upload back."""
        info, rows, filename = await collation.body_template(session, principal, ballot_id, code, now)
        return await downloads.body_template(info, rows, filename)

    @post("/comments/{code:str}/upload", operation_id="UploadComments", request_max_body_size=UPLOAD_LIMIT)
    async def upload_comments(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        principal: Principal,
        converter: Converter,
        now: datetime,
        ballot_id: int,
        code: str,
        data: Multipart,
    ) -> Response[api.CommentSetOut]:
        content, _ = await _read(data, converter)
        rows, first = await imports.import_national(
            session, principal, ballot_id, code, content.data, now, _limits(request)
        )
        version = rows[0].set_version if rows else 0
        out = api.CommentSetOut(
            ballot_id=ballot_id,
            body=code,
            set_version=version,
            comments=[presenters.comment_out(c) for c in rows],
            converted_from=content.converted_from or None,
        )
        return Response(out, status_code=201 if first else 200)

    @post(
        "/observations/upload",
        operation_id="UploadObservations",
        request_max_body_size=UPLOAD_LIMIT,
        status_code=200,
    )
    async def upload_observations(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        principal: Principal,
        converter: Converter,
        now: datetime,
        ballot_id: int,
        data: Multipart,
    ) -> dict[str, Any]:
        content, filename = await _read(data, converter)
        updated = await imports.import_observations(
            session, principal, ballot_id, content.data, filename, now, _limits(request)
        )
        return {
            "updated": len(updated),
            "references": [c.reference for c in updated],
            **_converted(content),
        }

    @post(
        "/compiled/upload",
        operation_id="UploadCompiledTable",
        request_max_body_size=UPLOAD_LIMIT,
        status_code=201,
    )
    async def upload_compiled(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        principal: Principal,
        converter: Converter,
        now: datetime,
        ballot_id: int,
        data: Multipart,
    ) -> dict[str, Any]:
        content, filename = await _read(data, converter)
        count, skipped = await imports.import_compiled(
            session, principal, ballot_id, content.data, filename, now, _limits(request)
        )
        return {
            "imported": count,
            "skipped": [{"row": p.row, "message": p.message} for p in skipped],
            **_converted(content),
        }
