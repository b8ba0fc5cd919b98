"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 00:36:25.606117
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infra.db.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("phone_block", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("first_seen_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_phone_block"), ["phone_block"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("normalized_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("normalized_name", name=op.f("uq_companies_normalized_name")),
    )
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("task_name", sa.String(length=128), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("record_index", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_dead_letters_fingerprint")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_task_name"), ["task_name"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("sink", sa.Text(), nullable=False),
        sa.Column("delivered_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_deliveries_kind_ref_id")),
    )
    op.create_table(
        "model_versions",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_model_versions")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_model_versions_one_active",
            ["role"],
            unique=True,
            sqlite_where=sa.text("role = 'active'"),
            postgresql_where=sa.text("role = 'active'"),
        )
        batch_op.create_index(
            "uq_model_versions_one_shadow",
            ["role"],
            unique=True,
            sqlite_where=sa.text("role = 'shadow'"),
            postgresql_where=sa.text("role = 'shadow'"),
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("task_name", sa.String(length=128), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", infra.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_published_at"), ["published_at"], unique=False)

    op.create_table(
        "signal_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("records", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signal_snapshots")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_signal_snapshots_content_hash")),
    )
    op.create_table(
        "company_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_company_indicators_company_id_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company_indicators")),
        sa.UniqueConstraint("kind", "value", name=op.f("uq_company_indicators_kind_value")),
    )
    with op.batch_alter_table("company_indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_indicators_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("observed_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("claims_bulk", sa.Boolean(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("received_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_evidence_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_evidence_content_hash")),
    )
    op.create_table(
        "legal_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("cited_evidence", sa.JSON(), nullable=False),
        sa.Column("activity_first", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activity_last", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", infra.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", infra.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", infra.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_legal_notices_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_notices")),
        sa.UniqueConstraint(
            "company_id", "policy_version", name=op.f("uq_legal_notices_company_id_policy_version")
        ),
    )
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("observed_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("features", sa.JSON(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_scores_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["signal_snapshots.id"],
            name=op.f("fk_scores_snapshot_id_signal_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint(
            "account_id",
            "stage",
            "observed_at",
            "model_version",
            name=op.f("uq_scores_account_id_stage_observed_at_model_version"),
        ),
    )
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scores_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scores_snapshot_id"), ["snapshot_id"], unique=False)

    op.create_table(
        "account_company_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_account_company_links_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_account_company_links_company_id_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_account_company_links_evidence_id_evidence"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_company_links")),
        sa.UniqueConstraint(
            "account_id", "company_id", name=op.f("uq_account_company_links_account_id_company_id")
        ),
    )
    with op.batch_alter_table("account_company_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_company_links_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_account_company_links_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "enforcement_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reversed_at", infra.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reversed_by", sa.String(length=64), nullable=True),
        sa.Column("reversal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_enforcement_actions_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["score_id"], ["scores.id"], name=op.f("fk_enforcement_actions_score_id_scores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_actions")),
        sa.UniqueConstraint("score_id", name=op.f("uq_enforcement_actions_score_id")),
    )
    with op.batch_alter_table("enforcement_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enforcement_actions_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            "uq_enforcement_actions_one_active_ban",
            ["account_id"],
            unique=True,
            sqlite_where=sa.text("action = 'ban' AND status = 'active'"),
            postgresql_where=sa.text("action = 'ban' AND status = 'active'"),
        )

    op.create_table(
        "evidence_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_evidence_links_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence.id"], name=op.f("fk_evidence_links_evidence_id_evidence")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_links")),
        sa.UniqueConstraint(
            "evidence_id", "company_id", name=op.f("uq_evidence_links_evidence_id_company_id")
        ),
    )
    with op.batch_alter_table("evidence_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_links_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_links_evidence_id"), ["evidence_id"], unique=False
        )

    op.create_table(
        "notice_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["legal_notices.id"],
            name=op.f("fk_notice_events_notice_id_legal_notices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_events")),
    )
    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_events_notice_id"), ["notice_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("notice_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_events_notice_id"))

    op.drop_table("notice_events")
    with op.batch_alter_table("evidence_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_links_evidence_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_links_company_id"))

    op.drop_table("evidence_links")
    with op.batch_alter_table("enforcement_actions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enforcement_actions_one_active_ban",
            sqlite_where=sa.text("action = 'ban' AND status = 'active'"),
            postgresql_where=sa.text("action = 'ban' AND status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_enforcement_actions_account_id"))

    op.drop_table("enforcement_actions")
    with op.batch_alter_table("account_company_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_company_links_company_id"))
        batch_op.drop_index(batch_op.f("ix_account_company_links_account_id"))

    op.drop_table("account_company_links")
    with op.batch_alter_table("scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scores_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_scores_account_id"))

    op.drop_table("scores")
    op.drop_table("legal_notices")
    op.drop_table("evidence")
    with op.batch_alter_table("company_indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_indicators_company_id"))

    op.drop_table("company_indicators")
    op.drop_table("signal_snapshots")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_published_at"))

    op.drop_table("outbox")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_model_versions_one_shadow",
            sqlite_where=sa.text("role = 'shadow'"),
            postgresql_where=sa.text("role = 'shadow'"),
        )
        batch_op.drop_index(
            "uq_model_versions_one_active",
            sqlite_where=sa.text("role = 'active'"),
            postgresql_where=sa.text("role = 'active'"),
        )

    op.drop_table("model_versions")
    op.drop_table("deliveries")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_task_name"))

    op.drop_table("dead_letters")
    op.drop_table("companies")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_entity")

    op.drop_table("audit_events")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_phone_block"))
        batch_op.drop_index(batch_op.f("ix_accounts_phone"))

    op.drop_table("accounts")
