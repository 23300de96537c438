"""Similar comments (issue #17 §3): 2,000 comments grouped by the pure engine, no database.

The comments are the collation benchmark's (seed.comment_rows: prose from a small vocabulary, the
worst case for an inverted index), with every tenth replaced by one of the labelled set's
requests as coordinating bodies send them, so that groups are found and scored too."""

from __future__ import annotations

import statistics
import time

from services.rules import similarity
from tests import similar_comments
from tests.bench import seed
from tests.bench.common import Measurement

N = 2000
BODIES = [f"B{i:02d}" for i in range(40)]


def corpus(n: int) -> list[similarity.Item]:
    rows = seed.comment_rows(n, BODIES)
    found = [
        similarity.Item(r["reference"], r["body"], r["clause"], f"{r['comment']}\n{r['proposed_change']}") for r in rows
    ]
    for k in range(0, n, 10):
        _label, _body, clause, comment, change = similar_comments.ROWS[(k // 10) % len(similar_comments.ROWS)]
        found[k] = similarity.Item(found[k].key, found[k].body, clause, f"{comment}\n{change}")
    return sorted(found, key=similarity.order_key)


def run(quick: bool) -> list[Measurement]:
    found = corpus(N)
    seconds, groups = [], 0
    for _ in range(1 if quick else 3):
        started = time.perf_counter()
        groups = len(similarity.group(found))
        seconds.append(time.perf_counter() - started)
    return [
        Measurement(
            "similar_2000",
            round(statistics.median(seconds), 3),
            "s",
            details={"comments": N, "groups": groups, "runs": [round(s, 3) for s in seconds], "target_s": 2.0},
        )
    ]
