"""follow-ups done when their consumer's effect commits; deliveries recorded before they leave;
dead letters that keep the whole message for replay

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infra.db.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("completed_at", infra.db.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("publications", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_outbox_completed_at"), ["completed_at"], unique=False)
    # Rows published before completion was tracked are taken as done: nothing can tell now.
    op.execute(
        "UPDATE outbox SET completed_at = published_at, publications = 1 "
        "WHERE published_at IS NOT NULL"
    )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(
            sa.Column("recorded_at", infra.db.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("attempted_at", infra.db.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column(
            "delivered_at", existing_type=infra.db.models.UTCDateTime(timezone=True), nullable=True
        )
        batch_op.create_index(batch_op.f("ix_deliveries_delivered_at"), ["delivered_at"])
    op.execute(
        "UPDATE deliveries SET recorded_at = delivered_at, attempted_at = delivered_at, attempts = 1"
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column(
            "recorded_at", existing_type=infra.db.models.UTCDateTime(timezone=True), nullable=False
        )

    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("body_format", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("replayed_at", infra.db.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_column("replayed_at")
        batch_op.drop_column("body_format")
        batch_op.drop_column("body")

    # A delivery never confirmed cannot be told apart from one that was after the downgrade.
    op.execute("DELETE FROM deliveries WHERE delivered_at IS NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_delivered_at"))
        batch_op.alter_column(
            "delivered_at", existing_type=infra.db.models.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("recorded_at")
        batch_op.drop_column("item")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_completed_at"))
        batch_op.drop_column("publications")
        batch_op.drop_column("completed_at")
