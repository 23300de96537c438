"""`ballotdesk api`: the production HTTP process, uvicorn with N worker processes.

Each uvicorn worker builds its own app from the environment (`production_app`), so every process
reads the same BALLOTDESK_* settings. SIGTERM stops accepting connections and lets requests in
flight finish (up to `GRACE_SECONDS`) before the process exits.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path
from types import FrameType

from litestar import Litestar

from services.platform import config_check, heap, logs
from services.platform.settings import Settings

GRACE_SECONDS = 30
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir() -> Path:
    """A fresh directory for prometheus_client's multiprocess files, shared by this server's workers.

    Set before any worker imports prometheus_client (children inherit the environment). Files of
    a previous run would add stale counts, so the directory starts empty.
    """
    configured = os.environ.get(METRICS_DIR_ENV, "").strip()
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="ballotdesk-metrics-"))
    if path.exists():
        for child in path.iterdir():
            if child.is_file() and child.suffix == ".db":
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)
    os.environ[METRICS_DIR_ENV] = str(path)
    return path


def production_app() -> Litestar:
    """The app factory uvicorn calls in each worker process."""
    from services.http.app import create_app

    settings = Settings.from_env()
    config_check.check(settings, "api")
    app = create_app(settings)
    # After the app: litestar installs its own root handler when it is built; ours replaces it.
    logs.configure(settings)
    heap.freeze_startup_objects()
    return app


def _stopped(signum: int, _frame: FrameType | None) -> None:
    """Runs when uvicorn re-raises the stop signal after its graceful shutdown (it does so for the
    exit status); the shutdown is done, so the process ends normally, with status 0."""


def run(host: str, port: int, workers: int, settings: Settings) -> None:
    import uvicorn

    from services.cli import connections

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _stopped)

    owned = not os.environ.get(METRICS_DIR_ENV, "").strip()
    metrics_dir = prepare_metrics_dir()
    try:
        uvicorn.run(
            "services.cli.server:production_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_config=None,
            proxy_headers=True,
            server_header=False,
            timeout_graceful_shutdown=GRACE_SECONDS,
            lifespan="on",
            **connections.uvicorn_options(settings),
        )
    finally:
        if owned:
            shutil.rmtree(metrics_dir, ignore_errors=True)
