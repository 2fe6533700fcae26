"""The schema as it was when revisions began: every table of `monitor.store.schema`.

A store written before then has these tables and no version table; it is stamped with this
revision, not upgraded, when it opens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from monitor.store.schema import metadata

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
