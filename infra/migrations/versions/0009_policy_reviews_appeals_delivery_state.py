"""actions chosen by a policy rule, with terms and release times, decided reviews and appeals;
labels; the ban-storm breaker; delivery state per item

Revision ID: 0009
Revises: 0008
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import infra.db.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enforcement_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("origin_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("release_at", infra.db.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_enforcement_actions_release_at"), ["release_at"], unique=False
        )
        batch_op.add_column(
            sa.Column("expires_at", infra.db.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_enforcement_actions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_enforcement_actions_origin_id_enforcement_actions"),
            "enforcement_actions",
            ["origin_id"],
            ["id"],
        )
        batch_op.drop_constraint("uq_enforcement_actions_score_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_enforcement_actions_origin_id"), ["origin_id"]
        )
        batch_op.create_index(
            "uq_enforcement_actions_one_automatic",
            ["score_id"],
            unique=True,
            sqlite_where=sa.text("origin_id IS NULL"),
            postgresql_where=sa.text("origin_id IS NULL"),
        )

    _give_legacy_restrictions_a_term()

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    op.execute("UPDATE deliveries SET status = 'delivered' WHERE delivered_at IS NOT NULL")

    op.create_table(
        "ban_counts",
        sa.Column("minute", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("bans", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("minute", name=op.f("pk_ban_counts")),
    )
    op.create_table(
        "breakers",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_at", infra.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_breakers")),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["enforcement_actions.id"],
            name=op.f("fk_appeals_action_id_enforcement_actions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("action_id", name=op.f("uq_appeals_action_id")),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("abusive", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.account_id"], name=op.f("fk_labels_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["enforcement_actions.id"],
            name=op.f("fk_labels_action_id_enforcement_actions"),
        ),
        sa.ForeignKeyConstraint(
            ["score_id"], ["scores.id"], name=op.f("fk_labels_score_id_scores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint("score_id", "source", name=op.f("uq_labels_score_id_source")),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labels_account_id"), ["account_id"], unique=False)


# Restrictions made before they had terms were open-ended; they get the first step of the
# shipped policy's ladder from when they were made, so beat lifts them (at once if that is past).
LEGACY_TERM = dt.timedelta(days=1)


def _give_legacy_restrictions_a_term() -> None:
    actions = sa.table(
        "enforcement_actions",
        sa.column("id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("status", sa.String),
        sa.column("created_at", infra.db.models.UTCDateTime(timezone=True)),
        sa.column("expires_at", infra.db.models.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    legacy = bind.execute(
        sa.select(actions.c.id, actions.c.created_at).where(
            actions.c.action == "restrict",
            actions.c.status == "active",
            actions.c.expires_at.is_(None),
        )
    ).all()
    for action_id, created_at in legacy:
        bind.execute(
            sa.update(actions)
            .where(actions.c.id == action_id)
            .values(expires_at=created_at + LEGACY_TERM)
        )


def downgrade() -> None:
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_account_id"))
    op.drop_table("labels")
    op.drop_table("appeals")
    op.drop_table("breakers")
    op.drop_table("ban_counts")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("status")

    # Decided reviews share their score with the review; the old key allows one action a score.
    op.execute(
        "DELETE FROM audit_events WHERE entity = 'enforcement_action' AND entity_id IN "
        "(SELECT id FROM enforcement_actions WHERE origin_id IS NOT NULL)"
    )
    op.execute(
        "UPDATE evidence SET action_id = NULL WHERE action_id IN "
        "(SELECT id FROM enforcement_actions WHERE origin_id IS NOT NULL)"
    )
    op.execute("DELETE FROM enforcement_actions WHERE origin_id IS NOT NULL")
    with op.batch_alter_table("enforcement_actions", schema=None) as batch_op:
        batch_op.drop_index("uq_enforcement_actions_one_automatic")
        batch_op.drop_constraint("uq_enforcement_actions_origin_id", type_="unique")
        batch_op.create_unique_constraint("uq_enforcement_actions_score_id", ["score_id"])
        batch_op.drop_constraint(
            "fk_enforcement_actions_origin_id_enforcement_actions", type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_enforcement_actions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_enforcement_actions_release_at"))
        batch_op.drop_column("release_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("origin_id")
        batch_op.drop_column("rule")
