"""every legal evaluation recorded; notices with references, revisions, pinned approvals and at
most one open notice per company; on-platform evidence tied to the ban it stands on

Revision ID: 0007
Revises: 0006
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infra.db.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("relied_on", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("borderline", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_legal_evaluations_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_evaluations")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_legal_evaluations_fingerprint")),
    )
    with op.batch_alter_table("legal_evaluations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_evaluations_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "notice_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("cited_evidence", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["legal_notices.id"],
            name=op.f("fk_notice_revisions_notice_id_legal_notices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_revisions")),
        sa.UniqueConstraint(
            "notice_id", "revision", name=op.f("uq_notice_revisions_notice_id_revision")
        ),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("action_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_evidence_action_id"), ["action_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_evidence_action_id_enforcement_actions"),
            "enforcement_actions",
            ["action_id"],
            ["id"],
        )

    with op.batch_alter_table("legal_notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="notice")
        )
        batch_op.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("evaluation_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
        )
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("body_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("approved_revision", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("respond_by", infra.db.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(
            batch_op.f("uq_legal_notices_company_id_policy_version"), type_="unique"
        )

    # Existing notices get their own reference, their text's hash and a first revision; drafts
    # awaiting approval are pending review under the new status machine.
    bind = op.get_bind()
    notices = sa.table(
        "legal_notices",
        sa.column("id", sa.Integer),
        sa.column("body", sa.Text),
        sa.column("status", sa.String),
        sa.column("reference", sa.String),
        sa.column("body_sha256", sa.String),
        sa.column("cited_evidence", sa.JSON),
        sa.column("approved_by", sa.String),
        sa.column("approved_revision", sa.Integer),
        sa.column("approved_sha256", sa.String),
        sa.column("created_at", infra.db.models.UTCDateTime()),
    )
    revisions = sa.table(
        "notice_revisions",
        sa.column("notice_id", sa.Integer),
        sa.column("revision", sa.Integer),
        sa.column("body", sa.Text),
        sa.column("body_sha256", sa.String),
        sa.column("cited_evidence", sa.JSON),
        sa.column("created_at", infra.db.models.UTCDateTime()),
    )
    for row in bind.execute(sa.select(notices)).mappings().all():
        digest = hashlib.sha256(row["body"].encode()).hexdigest()
        approved = row["approved_by"] is not None
        bind.execute(
            notices.update()
            .where(notices.c.id == row["id"])
            .values(
                reference=f"BG-{row['created_at']:%Y}-{row['id']:06d}",
                body_sha256=digest,
                status="pending_review" if row["status"] == "awaiting_approval" else row["status"],
                approved_revision=1 if approved else None,
                approved_sha256=digest if approved else None,
            )
        )
        bind.execute(
            revisions.insert().values(
                notice_id=row["id"],
                revision=1,
                body=row["body"],
                body_sha256=digest,
                cited_evidence=row["cited_evidence"],
                created_at=row["created_at"],
            )
        )

    with op.batch_alter_table("legal_notices", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("body_sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_legal_notices_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            "uq_legal_notices_one_open_per_company",
            ["company_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('draft', 'pending_review', 'approved')"),
            postgresql_where=sa.text("status IN ('draft', 'pending_review', 'approved')"),
        )
        batch_op.create_unique_constraint(batch_op.f("uq_legal_notices_reference"), ["reference"])
        batch_op.create_foreign_key(
            batch_op.f("fk_legal_notices_previous_id_legal_notices"),
            "legal_notices",
            ["previous_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_legal_notices_evaluation_id_legal_evaluations"),
            "legal_evaluations",
            ["evaluation_id"],
            ["id"],
        )


def downgrade() -> None:
    op.execute(
        "UPDATE legal_notices SET status = 'awaiting_approval' "
        "WHERE status IN ('draft', 'pending_review')"
    )
    with op.batch_alter_table("legal_notices", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_legal_notices_evaluation_id_legal_evaluations"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_legal_notices_previous_id_legal_notices"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_legal_notices_reference"), type_="unique")
        batch_op.drop_index(
            "uq_legal_notices_one_open_per_company",
            sqlite_where=sa.text("status IN ('draft', 'pending_review', 'approved')"),
            postgresql_where=sa.text("status IN ('draft', 'pending_review', 'approved')"),
        )
        batch_op.drop_index(batch_op.f("ix_legal_notices_company_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_legal_notices_company_id_policy_version"),
            ["company_id", "policy_version"],
        )
        batch_op.drop_column("respond_by")
        batch_op.drop_column("approved_sha256")
        batch_op.drop_column("approved_revision")
        batch_op.drop_column("body_sha256")
        batch_op.drop_column("revision")
        batch_op.drop_column("language")
        batch_op.drop_column("evaluation_id")
        batch_op.drop_column("previous_id")
        batch_op.drop_column("kind")
        batch_op.drop_column("reference")

    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_evidence_action_id_enforcement_actions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_evidence_action_id"))
        batch_op.drop_column("action_id")

    op.drop_table("notice_revisions")
    with op.batch_alter_table("legal_evaluations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_evaluations_company_id"))

    op.drop_table("legal_evaluations")
