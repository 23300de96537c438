"""Collation: compiled comment table from the database to the saved .docx, against naive
python-docx and a raw WordprocessingML stream writer; each run in its own process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from services.platform.db import Database
from tests.bench import common, seed
from tests.bench.common import Measurement

FULL = {1000: 1000, 5000: 5000, 20000: 20000}
QUICK = {1000: 200, 5000: 500, 20000: 1000}  # name → rows actually used in --quick


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [common.PYTHON, "-m", "tests.bench.collation_child", *args],
        cwd=common.ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(common.ROOT)},
    )
    if out.returncode != 0:
        raise RuntimeError(f"collation child {args[:2]} failed: {out.stderr[-800:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def _seed(world: seed.World, sizes: list[int]) -> dict[int, int]:
    db = Database(common.PG_BENCH_URL)
    try:
        ballots = {}
        for n in sizes:
            ballot_id = await seed.open_ballot(db, world, "DIS")
            await seed.insert_comments(db, ballot_id, seed.comment_rows(n, world.codes))
            ballots[n] = ballot_id
        return ballots
    finally:
        await db.dispose()


def run(quick: bool, workdir: Path, world: seed.World) -> list[Measurement]:
    sizes = QUICK if quick else FULL
    ballots = asyncio.run(_seed(world, list(sizes.values())))
    measurements = []
    for name, n in sizes.items():
        results = {}
        for mode in ("service", "raw", "naive"):
            out = workdir / f"collation_{mode}_{n}.docx"
            args = [mode, str(n), str(out)]
            if mode == "service":
                args += [common.PG_BENCH_URL, str(ballots[n])]
            result = _child(args)
            result["rows_per_s"] = round(result["rows"] / result["seconds"], 1)
            results[mode] = result
        svc = results["service"]
        if svc["rows"] != n:
            svc["warning"] = f"the service wrote {svc['rows']} rows for {n} comments"
        measurements.append(
            Measurement(
                f"collation_{name}",
                svc["rows_per_s"],
                "rows/s",
                {"raw": results["raw"]["rows_per_s"], "naive": results["naive"]["rows_per_s"]},
                {
                    "rows": n,
                    **{
                        m: {k: r[k] for k in ("seconds", "rows_per_s", "peak_mb", "rss_before_mb", "size")}
                        for m, r in results.items()
                    },
                },
            )
        )
    return measurements
