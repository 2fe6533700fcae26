"""Acknowledgements (a silence that ends when its alert episode resolves) and the ids of
interactive requests already acted on (replay protection for Slack's buttons).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from monitor.store.schema import REVISION_0002_TABLES, metadata

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = [metadata.tables[name] for name in REVISION_0002_TABLES]
    metadata.create_all(op.get_bind(), tables=tables, checkfirst=True)


def downgrade() -> None:
    tables = [metadata.tables[name] for name in REVISION_0002_TABLES]
    metadata.drop_all(op.get_bind(), tables=tables)
