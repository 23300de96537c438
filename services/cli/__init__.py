"""The composition root: the `ballotdesk` command wires settings, database, faces and workers."""
