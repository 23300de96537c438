"""Webhook rules (issue #15): which events a subscription wants, when a failed delivery is tried
again, and which addresses a delivery may go to. Plain functions; the sending is the workers'."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

# Seconds after each failed attempt (Standard Webhooks' suggestion): 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 10 h — a receiver down for a day and a half still gets everything.
RETRY_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
# A webhook failing without a success for this long is disabled and its owner told.
DISABLE_AFTER = timedelta(hours=24)
MAX_URL = 2000


def wants(prefixes: Iterable[str], event_type: str) -> bool:
    """Empty: every event; otherwise a type that starts with one of the prefixes."""
    listed = list(prefixes)
    return not listed or any(event_type.startswith(p) for p in listed)


def retry_at(attempts: int, last: datetime, schedule: Sequence[float] = RETRY_SCHEDULE) -> datetime | None:
    """When to try again after `attempts` failed ones, or None when the schedule is spent."""
    if attempts < 1 or attempts > len(schedule):
        return None
    return last + timedelta(seconds=schedule[attempts - 1])


def parse_schedule(text: str) -> tuple[float, ...]:
    """'5,300,1800' → (5.0, 300.0, 1800.0); a setting, so a wrong one fails at start-up."""
    values = tuple(float(part) for part in text.replace(" ", "").split(",") if part)
    if not values or any(v <= 0 for v in values):
        raise ValueError(f"a retry schedule is a list of positive seconds, e.g. 5,300,1800; not {text!r}")
    return values


def url_problem(url: str, *, https_only: bool) -> str | None:
    """What is wrong with `url` as a webhook address before looking it up, or None."""
    if len(url) > MAX_URL:
        return f"The URL is longer than {MAX_URL} characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The URL is not valid."
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "The URL must start with https:// and name a host."
    if https_only and parts.scheme != "https":
        return "The URL must use https."
    if parts.username or parts.password:
        return "The URL must not carry a user name or password; the signature authenticates us."
    if port == 0:
        return "The URL's port is not valid."
    return None


def address_problem(address: str, *, allow_loopback: bool, allow_private: bool) -> str | None:
    """Why a delivery may not go to `address` (an IP a host name resolved to), or None.

    Loopback, private, link-local (cloud metadata at 169.254.169.254), shared, reserved,
    multicast and unspecified addresses would let a webhook reach inside our own network."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback or allow_private else f"{address} is a loopback address."
    if allow_private:
        return None
    if ip.is_global and not ip.is_multicast:
        return None
    return f"{address} is not a public address (private, link-local, reserved or multicast)."
