"""Machinery every API resource shares: scoping to the user's labs, roles, locking, errors, schema."""
