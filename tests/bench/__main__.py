"""``python -m tests.bench [--quick] [--out FILE]``: run every family, write JSON, print a table."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench import common
from tests.bench.common import Measurement

ORDER = (
    "vote_intake_pg",
    "vote_intake_pg_one_process",
    "vote_intake_sqlite",
    "collation_1000",
    "collation_5000",
    "collation_20000",
    "close_170_20000",
    "import_1000",
    "import_5000",
    "similar_2000",
    "dispatch_redis_p99",
    "idle_rss_api",
    "idle_rss_worker",
)
FAMILIES = {"votes", "collation", "close", "import", "similar", "dispatch"}
UNITS = {
    "vote_intake_pg": "requests/s",
    "vote_intake_pg_one_process": "requests/s",
    "vote_intake_sqlite": "requests/s",
    "close_170_20000": "s",
    "import_1000": "s",
    "import_5000": "s",
    "similar_2000": "s",
    "dispatch_redis_p99": "ms",
    "idle_rss_api": "MB",
    "idle_rss_worker": "MB",
}


def _family(names: list[str], fn: Callable[[], list[Measurement]], results: dict[str, Measurement]) -> None:
    started = time.perf_counter()
    print(f"- {', '.join(names)} …", flush=True)
    try:
        for m in fn():
            results[m.name] = m
    except Exception as exc:
        traceback.print_exc()
        for name in names:
            if name not in results:
                results[name] = Measurement(
                    name, None, UNITS.get(name, "rows/s"), details={"error": f"{type(exc).__name__}: {exc}"}
                )
    finally:
        common.stop_all()
    print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)


def _skip(names: list[str], why: str, results: dict[str, Measurement]) -> None:
    print(f"- {', '.join(names)}: SKIPPED ({why})", flush=True)
    for name in names:
        results[name] = Measurement(name, None, UNITS.get(name, "rows/s"), details={"skipped": why})


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


def _extra(m: Measurement) -> str:
    d = m.details
    if "skipped" in d or "error" in d:
        return str(d.get("skipped") or d.get("error", "")).splitlines()[0][:160]
    if m.name.startswith("vote_intake"):
        a = d["api"]
        text = f"p50 {a['p50_ms']} / p99 {a['p99_ms']} ms, errors {a['errors']}"
        if "bare" in d:  # the one-process run shares the two-process run's anchor
            b = d["bare"]
            text += f"; bare p50 {b['p50_ms']} / p99 {b['p99_ms']} ms, errors {b['errors']}"
        return text
    if m.name.startswith("collation"):
        return f"n={d['rows']}: " + "; ".join(
            f"{k} {d[k]['seconds']:.2f} s, peak {d[k]['peak_mb']:.0f} MB" for k in ("service", "raw", "naive")
        )
    if m.name == "dispatch_redis_p99":
        return f"p50 {d['p50_ms']} ms, {d['events']} events, missing {d['missing']}; direct p50 {d['anchor_p50_ms']} ms"
    if m.name.startswith("import"):
        return f"{d['rows']} rows, {d['rows_per_s']:,.0f} rows/s"
    if m.name == "similar_2000":
        return f"{d['comments']} comments, {d['groups']} groups, runs {d['runs']} s (target < {d['target_s']} s)"
    if m.name.startswith("close"):
        return f"{d['bodies']} bodies, {d['comments']} comments, runs {d['runs']}"
    return str(d.get("what", ""))


def table(measurements: list[Measurement]) -> str:
    lines = [f"{'name':<28} {'value':>12} {'unit':<11} {'anchors':<40} {'ratios':<32} notes"]
    for m in measurements:
        anchors = ", ".join(f"{k}={_fmt(v)}" for k, v in m.anchors.items())
        ratios = ", ".join(f"{k}={_fmt(v)}" for k, v in m.ratios().items())
        lines.append(f"{m.name:<28} {_fmt(m.value):>12} {m.unit:<11} {anchors:<40} {ratios:<32} {_extra(m)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller loads, shorter runs (< 1 minute)")
    parser.add_argument("--out", default="bench-results.json", help="where the JSON goes (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, .docx files)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated families to run (votes, collation, close, import, similar, dispatch); default: all",
    )
    args = parser.parse_args(argv)
    only = {f.strip() for f in args.only.split(",") if f.strip()}
    unknown = only - FAMILIES
    if unknown:
        parser.error(f"unknown families: {', '.join(sorted(unknown))} (choose from {', '.join(sorted(FAMILIES))})")

    def wanted(family: str) -> bool:
        return not only or family in only

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    workdir = Path(tempfile.mkdtemp(prefix="ballotdesk-bench-"))
    results: dict[str, Measurement] = {}
    started = time.perf_counter()
    print(f"Ballotdesk benchmark ({'quick' if args.quick else 'full'}); work directory {workdir}", flush=True)
    # The similar-comments engine needs neither PostgreSQL nor Redis: `--only similar` leaves them alone.
    needs_services = any(wanted(f) for f in FAMILIES - {"similar"})
    try:
        pg_problem = common.postgres_available() if needs_services else "not needed"
        redis_problem = common.redis_available() if needs_services else "not needed"
        if needs_services and pg_problem:
            print(f"! PostgreSQL at 127.0.0.1:5432 is not usable ({pg_problem}): its measurements are skipped")
        if needs_services and redis_problem:
            print(f"! Redis at 127.0.0.1:6379 is not usable ({redis_problem}): dispatch is skipped")
        world = None
        if not pg_problem:
            from services.platform import migrate
            from services.platform.db import Database
            from tests.bench import seed

            migrate.upgrade(common.PG_BENCH_URL)

            async def make_world() -> seed.World:
                db = Database(common.PG_BENCH_URL)
                try:
                    return await seed.seed_world(db)
                finally:
                    await db.dispose()

            world_box: list[Any] = []
            _family(["setup"], lambda: world_box.append(asyncio.run(make_world())) or [], {})
            world = world_box[0] if world_box else None

        from tests.bench import closing, collation, dispatch, imports, similar, votes

        if wanted("votes"):
            _family(
                ["vote_intake_pg", "vote_intake_pg_one_process", "vote_intake_sqlite", "idle_rss_api"],
                lambda: votes.run(args.quick, workdir, world),
                results,
            )
        db_names = {
            "collation": ["collation_1000", "collation_5000", "collation_20000"],
            "close": ["close_170_20000"],
            "import": ["import_1000", "import_5000"],
        }
        if world is None:
            for family, names in db_names.items():
                if wanted(family):
                    _skip(names, "PostgreSQL not available", results)
        else:
            if wanted("collation"):
                _family(db_names["collation"], lambda: collation.run(args.quick, workdir, world), results)
            if wanted("close"):
                _family(db_names["close"], lambda: closing.run(args.quick, world), results)
            if wanted("import"):
                _family(db_names["import"], lambda: imports.run(args.quick, world), results)
        if wanted("similar"):  # the pure engine: no database needed
            _family(["similar_2000"], lambda: similar.run(args.quick), results)
        if not wanted("dispatch"):
            pass
        elif world is None or redis_problem:
            _skip(["dispatch_redis_p99", "idle_rss_worker"], "PostgreSQL or Redis not available", results)
        else:
            _family(
                ["dispatch_redis_p99", "idle_rss_worker"], lambda: dispatch.run(args.quick, workdir, world), results
            )
    finally:
        common.stop_all()
        if needs_services:
            common.flush_redis()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    names = [name for name in ORDER if not only or name in results]
    measurements = [results.get(name) or Measurement(name, None, UNITS.get(name, "rows/s")) for name in names]
    document = {
        "machine": common.machine(),
        "versions": common.versions(),
        "measurements": [m.as_json() for m in measurements],
        "mode": "quick" if args.quick else "full",
        "seconds": round(time.perf_counter() - started, 1),
        "details": {m.name: m.details for m in measurements},
    }
    Path(args.out).write_text(json.dumps(document, indent=2) + "\n")
    print()
    print(table(measurements))
    print(f"\nwrote {args.out} ({document['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
