"""The lease of the active replica: one row naming the holder, its epoch and when the lease
runs out, so replicas on one store elect one that alerts and fence the others.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from monitor.store.schema import lease

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lease.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    lease.drop(op.get_bind(), checkfirst=True)
