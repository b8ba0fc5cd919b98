"""the review queue, oldest first, from an index of the pending cases only

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING_REVIEWS = "action = 'review' AND status = 'pending'"


def upgrade() -> None:
    with op.batch_alter_table("enforcement_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enforcement_actions_pending_reviews",
            ["created_at", "id"],
            unique=False,
            sqlite_where=sa.text(PENDING_REVIEWS),
            postgresql_where=sa.text(PENDING_REVIEWS),
        )


def downgrade() -> None:
    with op.batch_alter_table("enforcement_actions", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_enforcement_actions_pending_reviews",
            sqlite_where=sa.text(PENDING_REVIEWS),
            postgresql_where=sa.text(PENDING_REVIEWS),
        )
