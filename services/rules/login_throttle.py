"""How long sign-in waits after wrong passwords. Pure: the counts come from the login_attempt table.

Two keys, each with its own count: the account (every address's failures since the account's last
success), which slows guessing one person's password from many addresses; and the address (its
failures on any account in the last hour, successes or not), which slows one address spraying a
common password across many accounts. Neither locks anyone out for good: after a few free
failures each one doubles the wait, up to a cap, and once the wait has passed the right password
works. An address that signed in to the account before is not held by the account's count (only
by its own), so someone else's guesses do not keep the owner out at their usual place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ACCOUNT_FREE = 5  # wrong passwords for one account before any wait
ADDRESS_FREE = 10  # more for one address: an office signs in from one address
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=15)
ACCOUNT_WINDOW = timedelta(hours=24)
ADDRESS_WINDOW = timedelta(hours=1)
# An address the account signed in from this recently is the owner's, for the account's count.
KNOWN_ADDRESS = timedelta(days=30)


@dataclass(frozen=True)
class Failures:
    """Failures counted for one key, and when the latest was."""

    count: int
    last: datetime | None


def wait_after(failures: int, free: int) -> timedelta:
    """The wait after `failures` wrong passwords: none for the first `free`, then doubling."""
    if failures < free:
        return timedelta(0)
    doublings: int = min(failures - free, 30)
    return min(FIRST_WAIT * (1 << doublings), LONGEST_WAIT)


def _remaining(failures: Failures, free: int, now: datetime) -> timedelta:
    if failures.last is None:
        return timedelta(0)
    return max(failures.last + wait_after(failures.count, free) - now, timedelta(0))


def retry_after(account: Failures, address: Failures, *, known_address: bool, now: datetime) -> int:
    """Seconds until a password may be checked again for this account from this address (0: now)."""
    waits = [_remaining(address, ADDRESS_FREE, now)]
    if not known_address:
        waits.append(_remaining(account, ACCOUNT_FREE, now))
    longest = max(waits)
    seconds = int(longest.total_seconds())
    return seconds + 1 if longest > timedelta(seconds=seconds) else seconds
