"""Alembic migrations of the case store, applied programmatically by `store.upgrade`."""
