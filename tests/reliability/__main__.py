"""`python -m tests.reliability [pytest args]`: the long form of the reliability suite.

Runs pytest on tests/reliability with BALLOTDESK_RELIABILITY_SCALE=long (larger loads) and prints
the table of figures at the end. The servers are those of the short form: set
BALLOTDESK_TEST_POSTGRES_URL, BALLOTDESK_TEST_REDIS_URL and BALLOTDESK_TEST_AMQP_URL as for the
test suite (BALLOTDESK_REQUIRE_SERVICES=1 turns a missing one into a failure).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import SCALE_ENV


def main(argv: list[str]) -> int:
    os.environ.setdefault(SCALE_ENV, "long")
    here = Path(__file__).resolve().parent
    return int(pytest.main([str(here), "-q", "-p", "no:cacheprovider", *argv]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
