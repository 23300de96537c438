"""Configuration read from the environment once, at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SQLITE_PATH = Path("var") / "ballotdesk.db"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and give them the async driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    admin_token: str = ""
    # Empty: the embedded in-process broker (nothing to install). redis://… or amqp://… in production.
    broker_url: str = ""
    # Empty: e-mails are logged instead of sent. smtp://user:pass@host:port, smtps://… for TLS.
    smtp_url: str = ""
    mail_from: str = "Ballotdesk <ballotdesk@localhost>"
    # Where links in e-mails point.
    public_url: str = "http://127.0.0.1:8000"
    # Text fields are bounded so a single request cannot fill the database.
    max_request_bytes: int = 2_000_000
    page_size: int = 100
    # "embedded" (one process, SQLite allowed, generated secrets) or "production" (checked at start).
    environment: str = "embedded"
    # Signs and encrypts the web session cookie; must be set (and shared by every API process) in production.
    secret_key: str = ""
    # Ed25519 private key (PEM file path) for signed ballot exports; generated under var/ when empty.
    signing_key_path: str = ""
    # "json" for one JSON object per line (production), "text" for people at a terminal.
    log_format: str = "text"
    # An event handed to the broker but not done after this long is sent again (a message lost
    # with the broker's memory, a worker killed mid-way). Longer than the slowest document build.
    redeliver_seconds: float = 300.0
    # How long an API process may reuse a token's principal without asking the database; a token
    # revoked through another process stops working within this time (0: ask on every request).
    token_cache_seconds: float = 5.0
    # A reminder tells a body whose vote alone would now decide the ballot so. Off by default: it
    # tells that body something about how the others voted, which some committees keep confidential.
    reminder_says_decisive: bool = False
    # Production webhooks go to public https addresses only; 1 allows private ones (and http) for
    # installations whose receivers live inside their own network.
    webhook_allow_private: bool = False
    # Seconds after each failed attempt; when spent, the delivery has failed.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    # A webhook failing this long without one success is disabled and its owner told.
    webhook_disable_after_hours: float = 24.0
    # LibreOffice turns uploaded .doc and .odt files into .docx; empty: `soffice` on the PATH (none
    # found: such files are refused with a sentence saying how to save them as .docx).
    soffice_path: str = ""
    convert_timeout_seconds: float = 60.0
    convert_memory_mb: int = 2048
    # Conversions at once per API process; more wait their turn.
    convert_at_once: int = 2
    # A web session ends this long after sign-in whatever happens, and sooner after this long
    # without a request (a request never carries it past its absolute end).
    session_hours: float = 12.0
    session_idle_minutes: float = 60.0
    # API tokens: the lifetime a new token gets unless it asks for less, and the most it may ask.
    token_days: int = 90
    token_max_days: int = 365
    # A client must send a request's line, headers and body within this many seconds or be cut
    # off: half-sent requests held open for ever once exhausted the file descriptors.
    client_timeout_seconds: float = 30.0
    # Header bytes (request line included) and header lines per request; over them: 431.
    max_header_bytes: int = 32_768
    max_headers: int = 100
    # Connections one server process holds at once; further ones are closed as they arrive.
    max_connections: int = 1_000
    # Word uploads, judged from the zip directory before anything is inflated: all parts together,
    # the largest part, and how many parts (python-docx holds every part in memory).
    upload_max_inflated_bytes: int = 64_000_000
    upload_max_part_bytes: int = 40_000_000
    upload_max_parts: int = 1_000

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=normalise_database_url(_env("BALLOTDESK_DATABASE_URL") or default_database_url()),
            admin_token=_env("BALLOTDESK_ADMIN_TOKEN"),
            broker_url=_env("BALLOTDESK_BROKER_URL"),
            smtp_url=_env("BALLOTDESK_SMTP_URL"),
            mail_from=_env("BALLOTDESK_MAIL_FROM") or cls.mail_from,
            public_url=(_env("BALLOTDESK_PUBLIC_URL") or cls.public_url).rstrip("/"),
            environment=_env("BALLOTDESK_ENV") or cls.environment,
            secret_key=_env("BALLOTDESK_SECRET_KEY"),
            signing_key_path=_env("BALLOTDESK_SIGNING_KEY"),
            log_format=_env("BALLOTDESK_LOG_FORMAT") or cls.log_format,
            redeliver_seconds=float(_env("BALLOTDESK_REDELIVER_SECONDS") or cls.redeliver_seconds),
            token_cache_seconds=float(_env("BALLOTDESK_TOKEN_CACHE_SECONDS") or cls.token_cache_seconds),
            reminder_says_decisive=_env("BALLOTDESK_REMINDER_SAYS_DECISIVE").lower() in ("1", "true", "yes", "on"),
            webhook_allow_private=_env("BALLOTDESK_WEBHOOK_ALLOW_PRIVATE").lower() in ("1", "true", "yes", "on"),
            webhook_retry_schedule=_env("BALLOTDESK_WEBHOOK_RETRY_SCHEDULE") or cls.webhook_retry_schedule,
            webhook_disable_after_hours=float(
                _env("BALLOTDESK_WEBHOOK_DISABLE_AFTER_HOURS") or cls.webhook_disable_after_hours
            ),
            soffice_path=_env("BALLOTDESK_SOFFICE"),
            convert_timeout_seconds=float(_env("BALLOTDESK_CONVERT_TIMEOUT_SECONDS") or cls.convert_timeout_seconds),
            convert_memory_mb=int(_env("BALLOTDESK_CONVERT_MEMORY_MB") or cls.convert_memory_mb),
            convert_at_once=int(_env("BALLOTDESK_CONVERT_AT_ONCE") or cls.convert_at_once),
            session_hours=float(_env("BALLOTDESK_SESSION_HOURS") or cls.session_hours),
            session_idle_minutes=float(_env("BALLOTDESK_SESSION_IDLE_MINUTES") or cls.session_idle_minutes),
            token_days=int(_env("BALLOTDESK_TOKEN_DAYS") or cls.token_days),
            token_max_days=int(_env("BALLOTDESK_TOKEN_MAX_DAYS") or cls.token_max_days),
            client_timeout_seconds=float(_env("BALLOTDESK_CLIENT_TIMEOUT_SECONDS") or cls.client_timeout_seconds),
            max_header_bytes=int(_env("BALLOTDESK_MAX_HEADER_BYTES") or cls.max_header_bytes),
            max_headers=int(_env("BALLOTDESK_MAX_HEADERS") or cls.max_headers),
            max_connections=int(_env("BALLOTDESK_MAX_CONNECTIONS") or cls.max_connections),
            upload_max_inflated_bytes=int(
                _env("BALLOTDESK_UPLOAD_MAX_INFLATED_BYTES") or cls.upload_max_inflated_bytes
            ),
            upload_max_part_bytes=int(_env("BALLOTDESK_UPLOAD_MAX_PART_BYTES") or cls.upload_max_part_bytes),
            upload_max_parts=int(_env("BALLOTDESK_UPLOAD_MAX_PARTS") or cls.upload_max_parts),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
