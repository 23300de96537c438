"""Benchmark harness: Ballotdesk measured against anchors in the same run (issue 5).

Run ``python -m tests.bench [--quick] [--out FILE]``. It asserts nothing about time; it writes
``bench-results.json`` and prints a table. One module per measurement family:
``votes`` (HTTP vote intake), ``collation``, ``closing``, ``imports``, ``dispatch``; the idle
memory figures come from the processes those families start.
"""
