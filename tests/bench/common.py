"""Shared plumbing: results, child processes (own process groups), servers, machine facts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Several developers share one server: each may point the run at a database and Redis db of
# their own (the database is dropped and recreated, the Redis db flushed).
BENCH_DATABASE = os.environ.get("BALLOTDESK_BENCH_DATABASE", "bench")
PG_BENCH_DSN = f"postgresql://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
PG_BENCH_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{BENCH_DATABASE}"
REDIS_URL = os.environ.get("BALLOTDESK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
FORBIDDEN_DATABASES = {"test", "postgres", "helper1", "helper2"}


@dataclass
class Measurement:
    name: str
    value: float | None
    unit: str
    anchors: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def ratios(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for key, anchor in self.anchors.items():
            out[key] = round(self.value / anchor, 4) if self.value is not None and anchor else None
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "anchors": dict(self.anchors),
            "ratios": self.ratios(),
        }


# --- processes -------------------------------------------------------------------------------

_started: list[subprocess.Popen[bytes]] = []


def spawn(args: list[str], *, env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a child in its own session (process group), remembered for `stop_all`."""
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONPATH", str(ROOT))
    out: Any = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(args, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _started.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM to the child's process group (only the group we created), SIGKILL if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    # Children of the group that outlived the leader (uvicorn workers): kill the group anyway.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc in _started:
        _started.remove(proc)


def stop_all() -> None:
    for proc in list(reversed(_started)):
        stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"no answer from {url} within {timeout} s")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def uvicorn_workers(proc: subprocess.Popen[bytes]) -> list[int]:
    """The worker processes of a `uvicorn --workers N` supervisor (skipping its resource tracker)."""
    pids = []
    for pid in children(proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmd:
            pids.append(pid)
    return pids or [proc.pid]


# --- servers ---------------------------------------------------------------------------------


async def _pg_reset() -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        name = BENCH_DATABASE
        if name in FORBIDDEN_DATABASES or not name.replace("_", "").isalnum():
            raise ValueError(f"refusing to drop the database {name!r}")
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()


def postgres_available() -> str | None:
    """None when usable, else why not."""
    try:
        asyncio.run(_pg_reset())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def redis_available() -> str | None:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
        client.ping()
        client.flushdb()  # DB 15 only
        client.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def flush_redis() -> None:
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
        client.flushdb()
        client.close()


# --- facts -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gb = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": mem_gb,
        "kernel": platform.release(),
        "os": platform.platform(),
    }


def _tool_version(args: list[str]) -> str | None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else None


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version()}
    for name in (
        "ballotdesk",
        "litestar",
        "msgspec",
        "uvicorn",
        "uvloop",
        "httptools",
        "sqlalchemy",
        "sqlmodel",
        "asyncpg",
        "aiosqlite",
        "python-docx",
        "lxml",
        "dramatiq",
        "redis",
        "alembic",
    ):
        with contextlib.suppress(importlib_metadata.PackageNotFoundError):
            found[name] = importlib_metadata.version(name)
    found["wrk"] = _tool_version(["wrk", "-v"])
    found["postgresql"] = _tool_version(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "show server_version"])
    found["redis-server"] = None
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        info = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "info", "server"], capture_output=True, text=True, timeout=5
        )
        for line in info.stdout.splitlines():
            if line.startswith("redis_version:"):
                found["redis-server"] = line.split(":", 1)[1].strip()
    return found


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)
