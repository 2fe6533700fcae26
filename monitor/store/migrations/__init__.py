"""Alembic revisions of the store's schema, applied when the store opens (`monitor.store.versions`)."""
