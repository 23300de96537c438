"""Use cases: one function, one transaction, its events in it. Authorisation is checked here."""
