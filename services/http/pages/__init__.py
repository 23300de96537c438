"""The web interface: server-rendered pages for delegates, secretaries, convenors and observers.

Every page handler parses its form, calls one use case (or reads one view) — the same ones the
JSON API calls — and renders a template; no rule is implemented here twice.
"""
