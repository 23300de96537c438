"""Configuration checked at start: production refuses what is only fit for a laptop."""

from __future__ import annotations

from services.platform.settings import Settings

ENVIRONMENTS = ("embedded", "production")
MIN_SECRET_CHARS = 32
MIN_ADMIN_TOKEN_CHARS = 24
# Values shipped in deploy/env.example and the docs: a copy left unchanged must not go live.
_PLACEHOLDERS = ("change-me", "changeme", "secret", "admin", "password", "test")


class ConfigError(ValueError):
    """The settings cannot run; the message lists every problem, one a line."""


def _placeholder(value: str) -> bool:
    lowered = value.lower()
    return lowered in _PLACEHOLDERS or "change-me" in lowered or "changeme" in lowered


def problems(settings: Settings, role: str) -> list[str]:
    """What is wrong with these settings for a process of this role (api, serve, worker, scheduler,
    migrate); empty when they are fine. The secrets are the API's; the broker is the API's (its
    readiness) and the workers'."""
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
    if role in ("api", "serve"):
        token = settings.admin_token
        if not token or _placeholder(token) or len(token) < MIN_ADMIN_TOKEN_CHARS:
            found.append(
                f"BALLOTDESK_ADMIN_TOKEN is empty, a placeholder or shorter than {MIN_ADMIN_TOKEN_CHARS} characters; "
                'set a random one: python -c "import secrets; print(secrets.token_urlsafe(32))".'
            )
        key = settings.secret_key
        if not key or _placeholder(key) or len(key) < MIN_SECRET_CHARS:
            found.append(
                f"BALLOTDESK_SECRET_KEY is empty, a placeholder or shorter than {MIN_SECRET_CHARS} characters; "
                "every API process must share one random value of at least that length."
            )
    return found


def check(settings: Settings, role: str) -> None:
    found = problems(settings, role)
    if found:
        listed = "\n  - ".join(found)
        raise ConfigError(f"configuration refused for `{role}` (BALLOTDESK_ENV={settings.environment}):\n  - {listed}")
