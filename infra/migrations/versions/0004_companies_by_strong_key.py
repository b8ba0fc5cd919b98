"""companies are identified by the strong key they were first seen by, not by their name:
same-name companies stay apart

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_key", sa.String(length=400), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_companies_normalized_name"), type_="unique")
        batch_op.create_index(
            batch_op.f("ix_companies_normalized_name"), ["normalized_name"], unique=False
        )
        batch_op.create_unique_constraint(batch_op.f("uq_companies_origin_key"), ["origin_key"])
    # Companies made before were identified by their name: that stays their origin.
    op.execute("UPDATE companies SET origin_key = 'name:' || normalized_name")


def downgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_companies_origin_key"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_companies_normalized_name"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_companies_normalized_name"), ["normalized_name"]
        )
        batch_op.drop_column("origin_key")
