"""Configuration checked at start: production refuses what is only fit for a laptop."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from services.platform import signing
from services.platform.settings import Settings

ENVIRONMENTS = ("embedded", "production")
MIN_SECRET_CHARS = 32
MIN_ADMIN_TOKEN_CHARS = 24
# Values shipped in deploy/env.example and the docs: a copy left unchanged must not go live.
_PLACEHOLDERS = ("changeme", "secret", "admin", "password", "test")
# A random token of that length has dozens of different characters; `aaaa…` or `abab…` is long
# and still guessed at once.
MIN_DISTINCT_CHARS = 10
_SEPARATORS = re.compile(r"[^a-z0-9]")


class ConfigError(ValueError):
    """The settings cannot run; the message lists every problem, one a line."""


def _placeholder(value: str) -> bool:
    """`change-me`, `CHANGE_ME_TO_…`, `Change.Me`, `secret`, …: the docs' words, however spelled."""
    bare = _SEPARATORS.sub("", value.lower())
    return bare in _PLACEHOLDERS or "changeme" in bare


def _weak(value: str, min_chars: int) -> bool:
    return not value or _placeholder(value) or len(value) < min_chars or len(set(value)) < MIN_DISTINCT_CHARS


def _url_password(url: str) -> str:
    try:
        return urlparse(url).password or ""
    except ValueError:
        return ""


def problems(settings: Settings, role: str) -> list[str]:
    """What is wrong with these settings for a process of this role (api, serve, worker, scheduler,
    migrate, check); empty when they are fine. The secrets are the API's; the broker is the API's
    (its readiness) and the workers'; the signing key is every process's (each writes or checks
    authenticated events, and a deployment missing it should stop at its first step)."""
    found: list[str] = []
    if settings.environment not in ENVIRONMENTS:
        found.append(f"BALLOTDESK_ENV must be one of {', '.join(ENVIRONMENTS)} (got {settings.environment!r}).")
    if settings.log_format not in ("json", "text"):
        found.append(f"BALLOTDESK_LOG_FORMAT must be json or text (got {settings.log_format!r}).")
    if settings.environment != "production":
        return found
    if settings.is_sqlite:
        found.append("BALLOTDESK_DATABASE_URL points at SQLite; production needs PostgreSQL (postgresql://…).")
    if not settings.broker_url and role in ("api", "serve", "worker"):
        found.append("BALLOTDESK_BROKER_URL is empty; production needs Redis or RabbitMQ (redis://… or amqp://…).")
    unsigned = signing.key_problem(settings)
    if unsigned:
        found.append(unsigned)
    for name, url in (("BALLOTDESK_DATABASE_URL", settings.database_url), ("BALLOTDESK_SMTP_URL", settings.smtp_url)):
        if _placeholder(_url_password(url)):
            found.append(f"{name} carries a placeholder password; set the real one.")
    if role in ("api", "serve"):
        token, key = settings.admin_token, settings.secret_key
        if _weak(token, MIN_ADMIN_TOKEN_CHARS):
            found.append(
                f"BALLOTDESK_ADMIN_TOKEN is empty, a placeholder, shorter than {MIN_ADMIN_TOKEN_CHARS} characters "
                f"or of fewer than {MIN_DISTINCT_CHARS} different characters; "
                'set a random one: python -c "import secrets; print(secrets.token_urlsafe(32))".'
            )
        elif token == key:
            found.append("BALLOTDESK_ADMIN_TOKEN equals BALLOTDESK_SECRET_KEY; give each its own random value.")
        if _weak(key, MIN_SECRET_CHARS):
            found.append(
                f"BALLOTDESK_SECRET_KEY is empty, a placeholder, shorter than {MIN_SECRET_CHARS} characters "
                f"or of fewer than {MIN_DISTINCT_CHARS} different characters; "
                "every API process must share one random value of at least that length."
            )
    return found


def check(settings: Settings, role: str) -> None:
    found = problems(settings, role)
    if found:
        listed = "\n  - ".join(found)
        raise ConfigError(f"configuration refused for `{role}` (BALLOTDESK_ENV={settings.environment}):\n  - {listed}")
