"""Who drove an alert, kept with it: a parent's contributors and a child's parent along the
rule's hierarchy, as computed when the alert was evaluated (`alert_drivers`).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

from monitor.store.schema import REVISION_0004_TABLES, metadata

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables = [metadata.tables[name] for name in REVISION_0004_TABLES]
    metadata.create_all(op.get_bind(), tables=tables, checkfirst=True)


def downgrade() -> None:
    tables = [metadata.tables[name] for name in REVISION_0004_TABLES]
    metadata.drop_all(op.get_bind(), tables=tables)
