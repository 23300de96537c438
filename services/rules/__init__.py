"""The rules, pure: stage table and draft names, ballot types, eligibility, approval, the vote
decision, clause order, reminders, participation, the hash chain, who may do and read what. No I/O:
plain functions on values, importing only the standard library and `schemas`."""
