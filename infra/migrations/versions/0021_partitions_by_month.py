"""PostgreSQL: snapshots, decision batches and their per-account index partitioned by month

Revision ID: 0021
Revises: 0020

The three tables are rebuilt as tables partitioned by range of ``received_at`` (the snapshot's,
copied into the other two), their rows copied, and the old ones dropped; ``snapshot_keys``
keeps the content hash unique across partitions. ``infra.db.partitions`` says why. SQLite gets
the two copied columns, empty (an ALTER TABLE ADD COLUMN: no table is rewritten), so that one
model serves both databases.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from infra.db.partitions import PARTITIONED, SNAPSHOT_KEYS, ensure_partitions

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPIED = ("decision_batches", "account_decisions")
# The foreign keys to the snapshots, by table, as they were before this revision.
_REFERRING = ("scores", "decision_batches", "account_decisions")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for table in _COPIED:
            op.add_column(table, sa.Column("received_at", sa.DateTime(timezone=True)))
        return
    for table in _REFERRING:
        op.drop_constraint(f"fk_{table}_snapshot_id_signal_snapshots", table, type_="foreignkey")
    for table in PARTITIONED:
        op.rename_table(table, f"{table}_unpartitioned")
        extra = ", received_at timestamptz NOT NULL" if table in _COPIED else ""
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS{extra}) "
            "PARTITION BY RANGE (received_at)"
        )
    since = bind.scalar(sa.text("SELECT min(received_at) FROM signal_snapshots_unpartitioned"))
    ensure_partitions(bind, dt.datetime.now(dt.UTC), since=since, lock_timeout=None)
    op.execute("INSERT INTO signal_snapshots SELECT * FROM signal_snapshots_unpartitioned")
    for table in _COPIED:
        op.execute(
            f"INSERT INTO {table} SELECT t.*, s.received_at FROM {table}_unpartitioned t "  # noqa: S608
            "JOIN signal_snapshots s ON s.id = t.snapshot_id"
        )
    for table in ("signal_snapshots", "decision_batches"):
        # The id sequences belong to the old tables' columns: they would go with them.
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    for table in reversed(PARTITIONED):
        op.drop_table(f"{table}_unpartitioned")
    for table in ("signal_snapshots", "decision_batches"):
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    _partitioned_keys()
    op.execute(
        f"CREATE TABLE {SNAPSHOT_KEYS} ("
        "content_hash varchar(64) NOT NULL CONSTRAINT pk_snapshot_keys PRIMARY KEY, "
        "snapshot_id integer NOT NULL, received_at timestamptz NOT NULL, "
        "CONSTRAINT fk_snapshot_keys_snapshot_id_signal_snapshots FOREIGN KEY "
        "(snapshot_id, received_at) REFERENCES signal_snapshots (id, received_at) "
        "ON DELETE CASCADE ON UPDATE CASCADE)"
    )
    # Retention deletes a month's keys by range, and a snapshot's deletion finds its key.
    op.create_index("ix_snapshot_keys_received_at", SNAPSHOT_KEYS, ["received_at", "snapshot_id"])
    op.execute(
        f"INSERT INTO {SNAPSHOT_KEYS} SELECT content_hash, id, received_at FROM signal_snapshots"  # noqa: S608
    )


def _partitioned_keys() -> None:
    """Every key of the partitioned tables holds ``received_at``, as PostgreSQL requires."""
    op.create_primary_key("pk_signal_snapshots", "signal_snapshots", ["id", "received_at"])
    op.create_index("ix_signal_snapshots_content_hash", "signal_snapshots", ["content_hash"])
    op.create_primary_key("pk_decision_batches", "decision_batches", ["id", "received_at"])
    op.create_unique_constraint(
        "uq_decision_batches_snapshot_id_model_version_received_at",
        "decision_batches",
        ["snapshot_id", "model_version", "received_at"],
    )
    op.create_index("ix_decision_batches_created_at", "decision_batches", ["created_at"])
    op.create_primary_key(
        "pk_account_decisions",
        "account_decisions",
        ["account_id", "snapshot_id", "position", "received_at"],
    )
    op.create_foreign_key(
        "fk_account_decisions_account_id_accounts",
        "account_decisions",
        "accounts",
        ["account_id"],
        ["account_id"],
    )
    for table in _COPIED:
        op.create_foreign_key(
            f"fk_{table}_snapshot_id_signal_snapshots",
            table,
            "signal_snapshots",
            ["snapshot_id", "received_at"],
            ["id", "received_at"],
            # The copies follow a snapshot whose receipt time is corrected.
            onupdate="CASCADE",
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for table in _COPIED:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_column("received_at")
        return
    op.drop_table(SNAPSHOT_KEYS)
    for table in PARTITIONED:
        op.rename_table(table, f"{table}_partitioned")
        op.execute(
            f"CREATE TABLE {table} (LIKE {table}_partitioned INCLUDING DEFAULTS)"
            + (";" if table not in _COPIED else f"; ALTER TABLE {table} DROP COLUMN received_at")
        )
        columns = ", ".join(
            c
            for c in bind.scalars(
                sa.text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
                    "ORDER BY ordinal_position"
                ),
                {"t": table},
            )
        )
        op.execute(f"INSERT INTO {table} SELECT {columns} FROM {table}_partitioned")  # noqa: S608
    for table in ("signal_snapshots", "decision_batches"):
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    for table in reversed(PARTITIONED):
        # Dropping a partitioned table drops its partitions.
        op.drop_table(f"{table}_partitioned")
    for table in ("signal_snapshots", "decision_batches"):
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.create_primary_key("pk_signal_snapshots", "signal_snapshots", ["id"])
    op.create_unique_constraint(
        "uq_signal_snapshots_content_hash", "signal_snapshots", ["content_hash"]
    )
    op.create_primary_key("pk_decision_batches", "decision_batches", ["id"])
    op.create_unique_constraint(
        "uq_decision_batches_snapshot_id_model_version",
        "decision_batches",
        ["snapshot_id", "model_version"],
    )
    op.create_index("ix_decision_batches_created_at", "decision_batches", ["created_at"])
    op.create_primary_key(
        "pk_account_decisions", "account_decisions", ["account_id", "snapshot_id", "position"]
    )
    op.create_foreign_key(
        "fk_account_decisions_account_id_accounts",
        "account_decisions",
        "accounts",
        ["account_id"],
        ["account_id"],
    )
    for table in _REFERRING:
        op.create_foreign_key(
            f"fk_{table}_snapshot_id_signal_snapshots",
            table,
            "signal_snapshots",
            ["snapshot_id"],
            ["id"],
        )
