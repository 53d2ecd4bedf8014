"""Imported questions belong to a scope: the shared pool, or one chat.

Existing imports were made by operators or before scopes existed: they stay in the shared pool.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imported_items") as batch:
        batch.add_column(
            sa.Column("scope", sa.String(200), nullable=False, server_default=sa.text("''"))
        )
        batch.create_index("ix_imported_items_scope", ["scope"])


def downgrade() -> None:
    with op.batch_alter_table("imported_items") as batch:
        batch.drop_index("ix_imported_items_scope")
        batch.drop_column("scope")
