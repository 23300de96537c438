"""Template import: a body's filled official template (2012-03 layout, ISO styles, headings in
the page header) of 1,000 and 5,000 rows, parsed, validated and stored by
`services.usecases.imports.import_national` in one transaction."""

from __future__ import annotations

import asyncio
import time

from schemas.types import utcnow
from services.platform.db import Database
from services.usecases import imports
from tests.bench import common, seed
from tests.bench.common import Measurement
from tests.docx_factory import comment_docx, row8


def template(body: str, n: int) -> bytes:
    rows = seed.comment_rows(n, [body], seed=11)
    return comment_docx(
        [
            row8(
                f"{body}-{r['seq']:03d}",
                r["line"],
                r["clause"],
                r["element"],
                r["type"],
                r["comment"],
                r["proposed_change"],
                "",
            )
            for r in rows
        ]
    )


async def _run(world: seed.World, sizes: dict[int, int]) -> dict[int, dict[str, float]]:
    db = Database(common.PG_BENCH_URL)
    results = {}
    try:
        ballot_id = await seed.open_ballot(db, world, "DIS")
        for i, (name, n) in enumerate(sizes.items()):
            body = world.codes[i]
            data = template(body, n)
            started = time.perf_counter()
            async with db.transaction() as s:
                stored, _ = await imports.import_national(s, world.delegate(body), ballot_id, body, data, utcnow())
            seconds = time.perf_counter() - started
            assert len(stored) == n, (len(stored), n)
            results[name] = {"rows": n, "seconds": seconds, "file_bytes": len(data)}
        return results
    finally:
        await db.dispose()


def run(quick: bool, world: seed.World) -> list[Measurement]:
    sizes = {1000: 200, 5000: 500} if quick else {1000: 1000, 5000: 5000}
    results = asyncio.run(_run(world, sizes))
    return [
        Measurement(
            f"import_{name}", round(r["seconds"], 4), "s", {}, {**r, "rows_per_s": round(r["rows"] / r["seconds"], 1)}
        )
        for name, r in results.items()
    ]
