"""Ballotdesk's processes as production runs them: `ballotdesk api|worker|scheduler` subprocesses
with settings in BALLOTDESK_* variables, each logging to a file, stopped with SIGTERM.

    env = processes.environment(database_url, broker_url=redis_url)
    processes.migrate(env)
    api = processes.start_api(env, port=18210, log_dir=tmp_path)
    processes.wait_ready(api)
    ...
    assert processes.stop(api) == 0

Every process runs in a session of its own, so `kill` and the final clean-up of `stopped`
reach its children (uvicorn workers, dramatiq worker processes) without touching anything else.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ADMIN_TOKEN = "processes-admin-" + "0123456789abcdef0123456789"
SECRET_KEY = "processes-secret-" + "0123456789abcdef0123456789abcdef"
_EXECUTABLE = Path(sys.executable).with_name("ballotdesk")


def command() -> list[str]:
    """The `ballotdesk` entry point of this interpreter's environment."""
    if _EXECUTABLE.exists():
        return [str(_EXECUTABLE)]
    return [sys.executable, "-m", "services.cli"]


@dataclass
class Process:
    role: str
    argv: list[str]
    popen: subprocess.Popen[bytes]
    log_path: Path
    port: int | None = None
    host: str = "127.0.0.1"
    exit_code: int | None = field(default=None)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        assert self.port is not None, f"{self.role} serves no HTTP"
        return f"http://{self.host}:{self.port}"

    def running(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def __str__(self) -> str:
        return f"{self.role} (pid {self.pid}{f', port {self.port}' if self.port else ''})"


def environment(
    database_url: str,
    *,
    broker_url: str = "",
    smtp_url: str = "",
    production: bool = True,
    admin_token: str = ADMIN_TOKEN,
    secret_key: str = SECRET_KEY,
    log_format: str = "json",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a production process: this one's, minus any BALLOTDESK_* setting of the
    developer's shell, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALLOTDESK_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "BALLOTDESK_DATABASE_URL": database_url,
            "BALLOTDESK_ADMIN_TOKEN": admin_token,
            "BALLOTDESK_SECRET_KEY": secret_key,
            "BALLOTDESK_LOG_FORMAT": log_format,
            "BALLOTDESK_ENV": "production" if production else "embedded",
        }
    )
    if production:
        env["BALLOTDESK_SIGNING_KEY"] = shared_signing_key(database_url)
    if broker_url:
        env["BALLOTDESK_BROKER_URL"] = broker_url
    if smtp_url:
        env["BALLOTDESK_SMTP_URL"] = smtp_url
    env.update(extra or {})
    return env


def shared_signing_key(database_url: str) -> str:
    """The key file a process of the test (a `Database` made from the URL alone, in embedded mode)
    signs with, made if missing: production processes must be given theirs, and given the same
    one, or the events written on either side would not authenticate on the other."""
    from services.platform import signing
    from services.platform.settings import Settings, normalise_database_url

    settings = Settings(database_url=normalise_database_url(database_url))
    signing.private_key(settings)
    return str(signing.key_path(settings).resolve())


async def fresh_postgres_database(base_url: str, suffix: str) -> str:
    """An empty database `<base>_<suffix>` on the server of `base_url` (dropped first if it exists),
    for tests that need a database of their own beside the shared test database."""
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    from services.platform.settings import normalise_database_url

    url = make_url(normalise_database_url(base_url))
    name = f"{url.database}_{suffix}"
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


def run(args: list[str], env: Mapping[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A one-shot command (`migrate`, `export`, `import` …); its output is returned, not checked."""
    return subprocess.run(
        [*command(), *args], env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )


def migrate(env: Mapping[str, str]) -> None:
    done = run(["migrate"], env)
    assert done.returncode == 0, f"ballotdesk migrate failed:\n{done.stdout}\n{done.stderr}"


def start(role: str, args: list[str], env: Mapping[str, str], log_dir: Path, *, port: int | None = None) -> Process:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{role}-{port or secrets.token_hex(3)}.log"
    argv = [*command(), *args]
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            argv, env=dict(env), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    return Process(role=role, argv=argv, popen=popen, log_path=log_path, port=port)


def start_api(
    env: Mapping[str, str], port: int, log_dir: Path, *, workers: int = 1, host: str = "127.0.0.1"
) -> Process:
    args = ["api", "--host", host, "--port", str(port), "--workers", str(workers)]
    process = start("api", args, env, log_dir, port=port)
    process.host = host
    return process


def start_worker(
    env: Mapping[str, str], log_dir: Path, *, processes: int = 1, threads: int = 2, prefetch: int = 0
) -> Process:
    args = ["worker", "--processes", str(processes), "--threads", str(threads), "--prefetch", str(prefetch)]
    return start("worker", args, env, log_dir)


def start_scheduler(env: Mapping[str, str], log_dir: Path, *, interval: float = 1.0) -> Process:
    return start("scheduler", ["scheduler", "--interval", str(interval)], env, log_dir)


def _http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, urllib.error.URLError):
        return None


# What a worker or scheduler logs once it is taking work (see services/cli/main.py).
READY_LINES = {"worker": "worker process ready", "scheduler": "scheduler ready"}


def wait_ready(process: Process, timeout: float = 40.0, *, path: str = "/ready", count: int = 1) -> None:
    """Until an API answers 200 on `path`, or a worker/scheduler has logged that it is ready
    (`count` times: a worker with N processes logs it N times). Fails with the log's tail when the
    process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running():
            raise AssertionError(f"{process} exited with {process.popen.returncode}:\n{process.tail()}")
        if process.port is not None:
            if _http_status(process.url + path) == 200:
                return
        elif process.log().count(READY_LINES[process.role]) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{process} not ready after {timeout:.0f} s:\n{process.tail()}")


def stop(process: Process, timeout: float = 40.0) -> int:
    """SIGTERM, as an orchestrator sends it; the exit code once the process has finished its work.
    A process that does not finish in `timeout` is killed, and the test fails."""
    if process.running():
        process.popen.send_signal(signal.SIGTERM)
    try:
        process.exit_code = process.popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        raise AssertionError(f"{process} ignored SIGTERM for {timeout:.0f} s:\n{process.tail()}") from None
    _reap_group(process)
    return process.exit_code


def kill(process: Process) -> None:
    """SIGKILL to the process and its children: a crash, not a shutdown."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.exit_code = process.popen.wait(timeout=10)


def _reap_group(process: Process) -> None:
    # Children left behind by a parent that exited (they should not be) do not outlive the test.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def stopped_at_exit(*initial: Process) -> Iterator[list[Process]]:
    """A list of processes that are all stopped (SIGTERM, newest first) when the block ends,
    whether it failed or not; append to it as processes start."""
    started = list(initial)
    try:
        yield started
    finally:
        for process in reversed(started):
            if process.running():
                with contextlib.suppress(AssertionError):
                    stop(process)
            else:
                _reap_group(process)
