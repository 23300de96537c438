"""Vote intake over HTTP (wrk) against the bare anchor app, on PostgreSQL and on SQLite; and the
idle memory of an API process (measured on the freshly started servers, before any load)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from services.platform import migrate, signing
from services.platform.db import Database
from services.platform.settings import Settings
from tests.bench import anchor_app, common, seed
from tests.bench.common import Measurement

CONNECTIONS = 50
DIS_REASONS = "Clause 5.3 contradicts ISO 9001:2015, 8.2; the requirement cannot be verified."

LUA = r"""
local codes = {%(codes)s}
local tokens = {%(tokens)s}
local ids = {%(ids)s}
local mode = "%(mode)s"
local prefix = "%(prefix)s"
local positions = {"approve", "disapprove", "abstain"}
local n = #codes
local i = 0
request = function()
  local k = (i %% n) + 1
  -- every pass over the bodies moves each body to another position: every vote is a change
  local p = positions[(math.floor(i / n) %% 3) + 1]
  i = i + 1
  local reasons = ""
  if p == "disapprove" then reasons = ',"reasons":"%(reasons)s"' end
  if mode == "api" then
    return wrk.format("PUT", prefix .. codes[k],
      {["Authorization"] = "Bearer " .. tokens[k], ["Content-Type"] = "application/json"},
      '{"position":"' .. p .. '"' .. reasons .. '}')
  end
  return wrk.format("POST", prefix, {["Content-Type"] = "application/json"},
    '{"voter_id":' .. ids[k] .. ',"position":"' .. p .. '"' .. reasons .. '}')
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d,' ..
    '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _lua(path: Path, *, mode: str, prefix: str, codes: list[str], tokens: list[str]) -> Path:
    quote = ", ".join
    path.write_text(
        LUA
        % {
            "codes": quote(f'"{c}"' for c in codes),
            "tokens": quote(f'"{t}"' for t in tokens),
            "ids": quote(str(i) for i in range(1, len(codes) + 1)),
            "mode": mode,
            "prefix": prefix,
            "reasons": DIS_REASONS,
        }
    )
    return path


def run_wrk(url: str, script: Path, seconds: float) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    for line in out.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            raw = json.loads(line[len("BENCHJSON ") :])
            errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
            return {
                "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
                "requests": raw["requests"],
                "p50_ms": round(raw["p50_us"] / 1000, 2),
                "p90_ms": round(raw["p90_us"] / 1000, 2),
                "p99_ms": round(raw["p99_us"] / 1000, 2),
                "max_ms": round(raw["max_us"] / 1000, 2),
                "errors": errors,
                "non_2xx": raw["status"],
            }
    raise RuntimeError(f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}")


def _measure(url: str, script: Path, warmup: float, seconds: float, runs: int) -> dict[str, Any]:
    run_wrk(url, script, warmup)
    results = [run_wrk(url, script, seconds) for _ in range(runs)]
    results.sort(key=lambda r: r["rps"])
    best = dict(results[len(results) // 2])  # the median run
    best["runs_rps"] = [r["rps"] for r in results]
    best["errors"] = sum(r["errors"] for r in results)
    return best


def _uvicorn(app: str, port: int, workers: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    args = [
        common.PYTHON,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return common.spawn(args, env=env, log=log)


def _production_api(port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """The API as production runs it: `ballotdesk api --workers N` with production settings."""
    env = {
        "BALLOTDESK_ENV": "production",
        "BALLOTDESK_DATABASE_URL": common.PG_BENCH_URL,
        "BALLOTDESK_ADMIN_TOKEN": common.ADMIN_TOKEN,
        "BALLOTDESK_SECRET_KEY": secrets.token_urlsafe(48),
        # Its readiness check wants the broker; votes themselves send nothing to it.
        "BALLOTDESK_BROKER_URL": common.REDIS_URL,
        # Production starts only with its signing key: the one the seed's events were written with.
        "BALLOTDESK_SIGNING_KEY": str(_signing_key()),
    }
    args = [str(Path(common.PYTHON).parent / "ballotdesk"), "api", "--host", "127.0.0.1", "--port", str(port)]
    return common.spawn([*args, "--workers", str(workers)], env=env, log=log)


def _signing_key() -> Path:
    settings = Settings(database_url=common.PG_BENCH_URL)
    signing.private_key(settings)  # made on first use outside production, as the seed's Database did
    return signing.key_path(settings).resolve()


def _server_loop() -> str:
    found = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name) is not None]
    return ", ".join(found) if found else "asyncio + h11 (uvloop and httptools not installed)"


def _idle_rss(proc: subprocess.Popen[bytes], url: str) -> float:
    time.sleep(1.5)
    import urllib.request

    for _ in range(4):
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
    time.sleep(0.5)
    return round(max(common.rss_mb(pid) for pid in common.uvicorn_workers(proc)), 1)


async def _world(url: str, world: seed.World | None = None) -> tuple[seed.World, int]:
    db = Database(url)
    try:
        world = world or await seed.seed_world(db)
        ballot_id = await seed.open_ballot(db, world, "DIS")
        return world, ballot_id
    finally:
        await db.dispose()


def run(quick: bool, workdir: Path, pg_world: seed.World | None) -> list[Measurement]:
    warmup, seconds, runs = (1, 2, 1) if quick else (3, 10, 3)
    measurements: list[Measurement] = []
    if shutil.which("wrk") is None:
        note = "wrk is not installed (apt-get install -y wrk): vote intake skipped"
        print(f"  ! {note}")
        for name in ("vote_intake_pg", "vote_intake_pg_one_process", "vote_intake_sqlite"):
            measurements.append(Measurement(name, None, "requests/s", details={"skipped": note}))
        measurements.append(Measurement("idle_rss_api", None, "MB", details={"skipped": note}))
        return measurements
    tool = f"wrk -t1 -c{CONNECTIONS}, {runs} x {seconds} s after {warmup} s warm-up (median run)"

    # --- PostgreSQL: the API as production runs it (2 uvicorn workers) vs the bare asyncpg app ----
    if pg_world is not None:
        world, ballot_id = asyncio.run(_world(common.PG_BENCH_URL, pg_world))
        codes = world.codes
        api_script = _lua(
            workdir / "api_pg.lua",
            mode="api",
            prefix=f"/api/v1/ballots/{ballot_id}/votes/",
            codes=codes,
            tokens=[world.tokens[c] for c in codes],
        )
        anchor_script = _lua(workdir / "anchor.lua", mode="anchor", prefix="/votes", codes=codes, tokens=[])
        asyncio.run(anchor_app.prepare(common.PG_BENCH_DSN, len(codes)))
        port = common.free_port()
        api = _production_api(port, 2, workdir / "api_pg.log")
        anchor_rss = api_rss = None
        try:
            common.wait_http(f"http://127.0.0.1:{port}/health", api)
            api_rss = _idle_rss(api, f"http://127.0.0.1:{port}/health")
            api_result = _measure(f"http://127.0.0.1:{port}", api_script, warmup, seconds, runs)
        finally:
            common.stop(api)
        # The same load on one API process: what the second process buys on this machine.
        port = common.free_port()
        single = _production_api(port, 1, workdir / "api_pg_single.log")
        try:
            common.wait_http(f"http://127.0.0.1:{port}/health", single)
            single_result = _measure(f"http://127.0.0.1:{port}", api_script, warmup, seconds, runs)
        finally:
            common.stop(single)
        port = common.free_port()
        anchor = _uvicorn(
            "tests.bench.anchor_app:create",
            port,
            2,
            {"BENCH_ANCHOR_DSN": common.PG_BENCH_DSN},
            workdir / "anchor_pg.log",
        )
        try:
            common.wait_http(f"http://127.0.0.1:{port}/health", anchor)
            anchor_rss = _idle_rss(anchor, f"http://127.0.0.1:{port}/health")
            anchor_result = _measure(f"http://127.0.0.1:{port}/votes", anchor_script, warmup, seconds, runs)
        finally:
            common.stop(anchor)
        measurements.append(
            Measurement(
                "vote_intake_pg",
                api_result["rps"],
                "requests/s",
                {"bare": anchor_result["rps"]},
                {
                    "tool": tool,
                    "api": api_result,
                    "bare": anchor_result,
                    "bodies": len(codes),
                    "server": f"ballotdesk api --workers 2, production settings ({_server_loop()}, no access log); "
                    "bare: uvicorn --workers 2 (uvloop, httptools, no access log)",
                },
            )
        )
        measurements.append(
            Measurement(
                "vote_intake_pg_one_process",
                single_result["rps"],
                "requests/s",
                {"bare": anchor_result["rps"], "two_processes": api_result["rps"]},
                {"tool": tool, "api": single_result, "server": "ballotdesk api --workers 1, production settings"},
            )
        )
        measurements.append(
            Measurement(
                "idle_rss_api",
                api_rss,
                "MB",
                {"bare": anchor_rss} if anchor_rss else {},
                {"what": "VmRSS of the larger uvicorn worker after start-up and 4 GET /health"},
            )
        )
    else:
        for name, unit in (
            ("vote_intake_pg", "requests/s"),
            ("vote_intake_pg_one_process", "requests/s"),
            ("idle_rss_api", "MB"),
        ):
            measurements.append(Measurement(name, None, unit, details={"skipped": "PostgreSQL not available"}))

    # --- SQLite: the embedded mode (`ballotdesk serve`, one process) vs the bare aiosqlite app ----
    sqlite_dir = Path(tempfile.mkdtemp(prefix="sqlite-", dir=workdir))
    url = f"sqlite+aiosqlite:///{sqlite_dir / 'ballotdesk.db'}"
    migrate.upgrade(url)
    world, ballot_id = asyncio.run(_world(url))
    codes = world.codes
    api_script = _lua(
        workdir / "api_sqlite.lua",
        mode="api",
        prefix=f"/api/v1/ballots/{ballot_id}/votes/",
        codes=codes,
        tokens=[world.tokens[c] for c in codes],
    )
    anchor_script = _lua(workdir / "anchor_sqlite.lua", mode="anchor", prefix="/votes", codes=codes, tokens=[])
    anchor_db = str(sqlite_dir / "anchor.db")
    asyncio.run(anchor_app.prepare(anchor_db, len(codes)))
    port = common.free_port()
    env = {"BALLOTDESK_DATABASE_URL": url, "BALLOTDESK_ADMIN_TOKEN": common.ADMIN_TOKEN, "BALLOTDESK_BROKER_URL": ""}
    api = common.spawn(
        [str(Path(common.PYTHON).parent / "ballotdesk"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        log=workdir / "api_sqlite.log",
    )
    try:
        common.wait_http(f"http://127.0.0.1:{port}/health", api, timeout=60)
        api_result = _measure(f"http://127.0.0.1:{port}", api_script, warmup, seconds, runs)
    finally:
        common.stop(api)
    port = common.free_port()
    anchor = _uvicorn(
        "tests.bench.anchor_app:create", port, 1, {"BENCH_ANCHOR_DSN": anchor_db}, workdir / "anchor_sqlite.log"
    )
    try:
        common.wait_http(f"http://127.0.0.1:{port}/health", anchor)
        anchor_result = _measure(f"http://127.0.0.1:{port}/votes", anchor_script, warmup, seconds, runs)
    finally:
        common.stop(anchor)
    measurements.append(
        Measurement(
            "vote_intake_sqlite",
            api_result["rps"],
            "requests/s",
            {"bare": anchor_result["rps"]},
            {
                "tool": tool,
                "api": api_result,
                "bare": anchor_result,
                "bodies": len(codes),
                "server": "ballotdesk serve (embedded: 1 process, in-process worker, relay, scheduler, sealer, "
                "uvicorn access log on); bare: uvicorn 1 worker, aiosqlite, one connection",
            },
        )
    )
    return measurements
