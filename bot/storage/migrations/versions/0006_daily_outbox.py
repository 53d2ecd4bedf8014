"""Daily challenge posts and results are recorded as delivered only after they are sent.

Challenges posted before this revision were taken as sent then, so they keep counting:
`shown_at` is filled from `posted_at`, and their results are queued when they close.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("daily_challenges", sa.Column("shown_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE daily_challenges SET shown_at = posted_at")
    op.create_table(
        "daily_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "challenge_id", sa.Integer(), sa.ForeignKey("daily_challenges.id"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("deliver_until", sa.DateTime(), nullable=False),
        sa.Column("lease", sa.String(32), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("challenge_id", "kind"),
    )
    op.create_index("ix_daily_outbox_challenge_id", "daily_outbox", ["challenge_id"])
    op.create_index("ix_daily_outbox_deliver_until", "daily_outbox", ["deliver_until"])


def downgrade() -> None:
    op.drop_table("daily_outbox")
    op.drop_column("daily_challenges", "shown_at")  # SQLite 3.35+ drops a plain column in place
