"""The schema as it was when revisions began: every table of `monitor.store.schema` but those
later revisions add.

A store written before then has these tables and no version table; it is stamped with this
revision, not upgraded, when it opens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import REVISION_0002_TABLES, REVISION_0004_TABLES, metadata

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


LATER = (*REVISION_0002_TABLES, "lease", *REVISION_0004_TABLES)


def tables() -> list[sa.Table]:
    return [t for t in metadata.sorted_tables if t.name not in LATER]


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=tables(), checkfirst=True)


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=tables())
