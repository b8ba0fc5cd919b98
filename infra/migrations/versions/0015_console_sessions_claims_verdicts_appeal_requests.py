"""the console: server-side sessions, reviewers' leases on review cases, people's verdicts on
evidence readings, and appeals waiting for a reviewer

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infra.db.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", infra.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_why", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_console_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "review_claims",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["enforcement_actions.id"],
            name=op.f("fk_review_claims_review_id_enforcement_actions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_review_claims_user_id_users")
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_review_claims")),
    )
    with op.batch_alter_table("review_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_claims_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_review_claims_user_id"), ["user_id"], unique=False)

    op.create_table(
        "appeal_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_by_id", sa.Integer(), nullable=True),
        sa.Column("filed_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["enforcement_actions.id"],
            name=op.f("fk_appeal_requests_action_id_enforcement_actions"),
        ),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_requests_appeal_id_appeals")
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_id"], ["users.id"], name=op.f("fk_appeal_requests_filed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_requests")),
    )
    with op.batch_alter_table("appeal_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appeal_requests_action_id"), ["action_id"], unique=False
        )
        batch_op.create_index(
            "uq_appeal_requests_one_pending",
            ["action_id"],
            unique=True,
            sqlite_where=sa.text("appeal_id IS NULL"),
            postgresql_where=sa.text("appeal_id IS NULL"),
        )

    op.create_table(
        "evidence_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence.id"], name=op.f("fk_evidence_verdicts_evidence_id_evidence")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_evidence_verdicts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_verdicts")),
        sa.UniqueConstraint("evidence_id", name=op.f("uq_evidence_verdicts_evidence_id")),
    )


def downgrade() -> None:
    op.drop_table("evidence_verdicts")
    with op.batch_alter_table("appeal_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_appeal_requests_one_pending",
            sqlite_where=sa.text("appeal_id IS NULL"),
            postgresql_where=sa.text("appeal_id IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_appeal_requests_action_id"))

    op.drop_table("appeal_requests")
    with op.batch_alter_table("review_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_claims_user_id"))
        batch_op.drop_index(batch_op.f("ix_review_claims_expires_at"))

    op.drop_table("review_claims")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))

    op.drop_table("console_sessions")
