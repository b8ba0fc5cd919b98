"""decisions kept per batch: packed scores and decisions, a per-account index, scores actioned only

Revision ID: 0013
Revises: 0012

Existing scores are carried over: each (snapshot, model) becomes one decision batch and each
scored account one index entry; allow scores are then deleted (nothing refers to them: actions
and labels refer to actioned scores). Downgrading unpacks the batches back into allow scores,
with the observation times their snapshots hold.
"""

import datetime as dt
import json
import math
import struct
import zlib
from collections.abc import Sequence

import msgspec
import sqlalchemy as sa
import zstandard
from alembic import op

import infra.db.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in tasks.scoring.model.DECISIONS, frozen here: a migration does not change with the code.
DECISIONS = ("allow", "review", "restrict", "ban")
REFUSED = 255
TIME = infra.db.models.UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "decision_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("allowed", sa.Integer(), nullable=False),
        sa.Column("reviewed", sa.Integer(), nullable=False),
        sa.Column("restricted", sa.Integer(), nullable=False),
        sa.Column("banned", sa.Integer(), nullable=False),
        sa.Column("scores", sa.LargeBinary(), nullable=False),
        sa.Column("decisions", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", infra.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["signal_snapshots.id"],
            name=op.f("fk_decision_batches_snapshot_id_signal_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_batches")),
        sa.UniqueConstraint(
            "snapshot_id",
            "model_version",
            name=op.f("uq_decision_batches_snapshot_id_model_version"),
        ),
    )
    op.create_index(
        op.f("ix_decision_batches_created_at"), "decision_batches", ["created_at"], unique=False
    )
    op.create_table(
        "account_decisions",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name=op.f("fk_account_decisions_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["signal_snapshots.id"],
            name=op.f("fk_account_decisions_snapshot_id_signal_snapshots"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "snapshot_id", "position", name=op.f("pk_account_decisions")
        ),
        sqlite_with_rowid=False,
    )
    _carry_scores_over()


def _carry_scores_over() -> None:
    bind = op.get_bind()
    snapshots = bind.execute(
        sa.text(
            "SELECT DISTINCT s.snapshot_id, n.record_count FROM scores s "
            "JOIN signal_snapshots n ON n.id = s.snapshot_id ORDER BY s.snapshot_id"
        )
    ).all()
    insert_batch = sa.text(
        "INSERT INTO decision_batches (snapshot_id, model_version, shadow, stage, allowed, "
        "reviewed, restricted, banned, scores, decisions, created_at) "
        "VALUES (:s, :v, :shadow, :stage, :a, :rv, :rs, :b, :scores, :codes, :at)"
    ).bindparams(sa.bindparam("at", type_=TIME))
    for snapshot_id, record_count in snapshots:
        rows = bind.execute(
            sa.text(
                "SELECT model_version, shadow, stage, position, account_id, score, decision, "
                "created_at FROM scores WHERE snapshot_id = :s"
            ).columns(created_at=TIME),
            {"s": snapshot_id},
        ).all()
        # Per model version: (shadow, stage, created_at) of its first score, its scores and
        # decision codes by position.
        about: dict[str, tuple[bool, str, dt.datetime]] = {}
        scores: dict[str, list[float]] = {}
        codes: dict[str, list[int]] = {}
        accounts: set[tuple[str, int]] = set()
        for version, shadow, stage, position, account_id, score, decision, created in rows:
            if version not in about:
                about[version] = (bool(shadow), stage, created)
                scores[version] = [math.nan] * record_count
                codes[version] = [REFUSED] * record_count
            scores[version][position] = score
            codes[version][position] = DECISIONS.index(decision)
            accounts.add((account_id, position))
        for version, (shadow, stage, created) in about.items():
            made = codes[version]
            bind.execute(
                insert_batch,
                {
                    "s": snapshot_id,
                    "v": version,
                    "shadow": shadow,
                    "stage": stage,
                    "a": made.count(0),
                    "rv": made.count(1),
                    "rs": made.count(2),
                    "b": made.count(3),
                    "scores": struct.pack(f"<{record_count}f", *scores[version]),
                    "codes": bytes(made),
                    "at": created,
                },
            )
        bind.execute(
            sa.text(
                "INSERT INTO account_decisions (account_id, snapshot_id, position) "
                "VALUES (:a, :s, :p)"
            ),
            [{"a": a, "s": snapshot_id, "p": p} for a, p in sorted(accounts)],
        )
    bind.execute(sa.text("DELETE FROM scores WHERE decision = 'allow'"))


def downgrade() -> None:
    bind = op.get_bind()
    snapshots = bind.scalars(
        sa.text("SELECT DISTINCT snapshot_id FROM decision_batches ORDER BY snapshot_id")
    ).all()
    restore = sa.text(
        "INSERT INTO scores (snapshot_id, position, account_id, stage, observed_at, "
        "model_version, shadow, score, decision, created_at) VALUES "
        "(:s, :p, :a, :stage, :o, :v, :shadow, :score, 'allow', :at) ON CONFLICT DO NOTHING"
    ).bindparams(sa.bindparam("o", type_=TIME), sa.bindparam("at", type_=TIME))
    # One snapshot at a time: its records are read and decompressed once, for all its models.
    for snapshot_id in snapshots:
        stored = bind.scalar(
            sa.text("SELECT records FROM signal_snapshots WHERE id = :s"), {"s": snapshot_id}
        )
        records = json.loads(_decompressed(stored))
        where = bind.execute(
            sa.text("SELECT position, account_id FROM account_decisions WHERE snapshot_id = :s"),
            {"s": snapshot_id},
        ).all()
        batches = bind.execute(
            sa.text(
                "SELECT model_version, shadow, stage, scores, decisions, created_at "
                "FROM decision_batches WHERE snapshot_id = :s ORDER BY id"
            ).columns(created_at=TIME),
            {"s": snapshot_id},
        ).all()
        for version, shadow, stage, packed, codes, created in batches:
            scores = struct.unpack(f"<{len(codes)}f", packed)
            allowed = [
                {
                    "s": snapshot_id,
                    "p": position,
                    "a": account_id,
                    "stage": stage,
                    "o": _observed(records[position]["observed_at"]),
                    "v": version,
                    "shadow": shadow,
                    "score": scores[position],
                    "at": created,
                }
                for position, account_id in where
                if codes[position] == 0
            ]
            if allowed:
                bind.execute(restore, allowed)
    op.drop_table("account_decisions")
    op.drop_index(op.f("ix_decision_batches_created_at"), table_name="decision_batches")
    op.drop_table("decision_batches")


def _decompressed(stored: bytes) -> bytes:
    """A snapshot's records: zstd-compressed JSON, zlib in the oldest releases."""
    if stored.startswith(b"\x28\xb5\x2f\xfd"):
        return zstandard.ZstdDecompressor().decompress(stored)
    return zlib.decompress(stored)


def _observed(value: object) -> dt.datetime:
    """A stored record's observation time, read as scoring read it (RFC 3339 text in any form
    it took, or a Unix time, which earlier releases also took)."""
    return msgspec.convert(value, dt.datetime, strict=False)
