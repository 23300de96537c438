"""Reliability and security, proven with figures (issue 7).

Each test here asserts a property (no lost vote, no late vote, no 5xx, effects once …) and adds
a row of figures to the table printed at the end of the run (see `conftest.Figures`).

Short form (CI): `pytest tests/reliability`. Long form: `python -m tests.reliability`, which sets
BALLOTDESK_RELIABILITY_SCALE=long for larger loads.
"""
