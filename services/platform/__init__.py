"""The platform: settings, database and transactions, the event log and its outbox, logs, metrics,
signing, request ids, identities. Knows nothing of ballots beyond the tables it stores."""
