"""companies merge into one another over shared strong keys; operators can keep two apart

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infra.db.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_companies_merged_into"), ["merged_into"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_companies_merged_into_companies"), "companies", ["merged_into"], ["id"]
        )
    op.create_table(
        "company_separations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_separations_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["companies.id"], name=op.f("fk_company_separations_other_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_separations")),
        sa.UniqueConstraint(
            "company_id", "other_id", name=op.f("uq_company_separations_company_id_other_id")
        ),
    )
    with op.batch_alter_table("company_separations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_separations_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_company_separations_other_id"), ["other_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("company_separations")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_companies_merged_into_companies"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_companies_merged_into"))
        batch_op.drop_column("merged_into")
