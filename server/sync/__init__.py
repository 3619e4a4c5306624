"""Sync: the changes feed, the mutation endpoint and conflict records (docs/sync.md)."""
