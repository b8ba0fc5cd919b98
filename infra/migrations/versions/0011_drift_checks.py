"""drift checks: live traffic against each model's training data, per stage

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infra.db.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drift_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("score_psi", sa.Float(), nullable=False),
        sa.Column("worst_feature", sa.String(length=64), nullable=False),
        sa.Column("worst_psi", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("features", sa.JSON(none_as_null=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_checks")),
    )
    op.create_index(
        "ix_drift_checks_stage_checked_at", "drift_checks", ["stage", "checked_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_drift_checks_stage_checked_at", table_name="drift_checks")
    op.drop_table("drift_checks")
