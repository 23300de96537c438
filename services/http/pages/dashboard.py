"""The home page: what needs my action (delegates) and the ballots I run (secretaries, convenors)."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from services.http.pages.common import WebRequest, now, page, run
from services.rules.actors import Principal
from services.views import dashboard as read_model


@get("/", name="dashboard")
async def dashboard(request: WebRequest, viewer: Principal) -> Template:
    view = await run(request, lambda s: read_model.dashboard(s, viewer, now(request)))
    return page(request, "dashboard.html", viewer, mine=view.mine, officer=view.officer, results=view.results)
