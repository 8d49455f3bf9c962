"""Services own the logic: they take a session and ``now`` and never commit."""
