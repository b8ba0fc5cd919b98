"""The relational model of bulkguard.

Every effect has a natural idempotency key enforced here by a unique constraint, so that a
redelivered task can insert "again" and leave the same rows (``infra.db.inserts.insert_ignore``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on every backend: SQLite drops the offset, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, _dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: bulkguard stores UTC instants only")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, _dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dt.datetime: UTCDateTime(),
        # An absent document is SQL NULL, not the JSON text 'null': queryable as such, and no
        # encoder call per row (a scoring batch writes thousands of rows without one).
        dict[str, Any]: JSON(none_as_null=True),
        list[Any]: JSON(none_as_null=True),
    }


class User(Base):
    """Someone who takes the decisions the system leaves to people: a person (who logs in with a
    password and acts on the command line with a personal token) or an upstream service (which
    signs the decisions it sends by task name). Every human decision stores this row's id.
    Never deleted: a user who leaves is disabled, so the decisions they took keep their maker."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16), default="person")  # person | service
    # argon2id (infra.credentials); NULL for a service, which never logs in.
    password_hash: Mapped[str | None] = mapped_column(Text)
    # A password someone else set (the first one, or an admin's reset): the person must
    # choose their own before anything else.
    password_expired: Mapped[bool] = mapped_column(Boolean, default=False)
    # A service's Ed25519 public key (raw, base64): what its signed decisions are checked with.
    public_key: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class UserRole(Base):
    """A role held over a span of time. A revoked role keeps its row, so a decision can be
    checked against the roles its maker held when taking it (a notice is sent only if its
    approver held ``counsel`` at the moment of approval)."""

    __tablename__ = "user_roles"
    __table_args__ = (
        Index(
            "uq_user_roles_one_held",
            "user_id",
            "role",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # reviewer | counsel | admin
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class UserToken(Base):
    """A person's API token for the command line: only its SHA-256 is kept (the token is 256
    random bits, shown once). Issuing a new one revokes the previous."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()


class Account(Base):
    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Not the number: HMAC-SHA256 of it under the data key (infra.number_hash), for the lookups
    # that need only its equality (a company's published number, a subject request by number),
    # and the id of the key it was made under, for a rotation to find the rows to re-key. Both
    # null once a rotation found the number nowhere to re-key it from (docs/data.md).
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(8))
    country: Mapped[str | None] = mapped_column(String(2))
    # 1,000-block of the number (all but the last three digits): a neighbourhood for aggregates,
    # and what a reviewer is shown of the number. Not indexed: nothing looks accounts up by it.
    phone_block: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="active")
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    """A trained model in the registry; which one is active (or shadow) is decided here."""

    __tablename__ = "model_versions"
    __table_args__ = (
        # At most one active and one shadow model of each kind at a time.
        Index(
            "uq_model_versions_one_active",
            "kind",
            "role",
            unique=True,
            sqlite_where=text("role = 'active'"),
            postgresql_where=text("role = 'active'"),
        ),
        Index(
            "uq_model_versions_one_shadow",
            "kind",
            "role",
            unique=True,
            sqlite_where=text("role = 'shadow'"),
            postgresql_where=text("role = 'shadow'"),
        ),
    )

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    # What the model decides: "account" (the scoring stages) or "evidence" (the claim reader).
    kind: Mapped[str] = mapped_column(String(16), default="account", server_default="account")
    role: Mapped[str] = mapped_column(String(16), default="candidate")
    path: Mapped[str] = mapped_column(Text)
    card: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The model file itself, so that workers on any host load it from here (and cache it on
    # their disk by hash) without a shared disk. Loaded only when asked for: the serving check
    # reads this table every few seconds.
    artifact: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DriftCheck(Base):
    """One measure of how far a stage's live traffic has moved from a model's training data
    (``tasks.scoring.stability``), recorded by beat."""

    __tablename__ = "drift_checks"
    __table_args__ = (Index("ix_drift_checks_stage_checked_at", "stage", "checked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    model_version: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    records: Mapped[int] = mapped_column(Integer)
    score_psi: Mapped[float] = mapped_column(Float)
    worst_feature: Mapped[str] = mapped_column(String(64))
    worst_psi: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(8))  # ok | watch | alert
    features: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SignalSnapshot(Base):
    """One scoring batch as it was received: what the model saw, kept for audits and appeals.

    Stored per batch (zstd-compressed JSON of the valid records; zlib before) rather than per
    account: one row per batch keeps the write path of scoring short.
    """

    __tablename__ = "signal_snapshots"
    __table_args__ = (
        # PostgreSQL partitions this table by month of ``received_at`` (infra.db.partitions),
        # and a partitioned table's unique keys must hold it: there ``snapshot_keys`` keeps the
        # content hash unique, and this index finds a snapshot by it.
        UniqueConstraint("content_hash").ddl_if(dialect="sqlite"),
        Index("ix_signal_snapshots_content_hash", "content_hash").ddl_if(dialect="postgresql"),
    )

    # On PostgreSQL the primary key is (id, received_at), which the partitions require; the id
    # alone is unique there too (one sequence), and it is what the mapper knows a row by.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[str | None] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(Integer)
    records: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When retention blanked the records of its allowed accounts (``tasks.retention``): only
    # the actioned records, which their actions are explained from, stay past that period.
    pruned_at: Mapped[dt.datetime | None] = mapped_column()


class DecisionBatch(Base):
    """One model's decisions on one snapshot: every record's score and decision, packed.

    Every decision is durable here before the batch is acknowledged, at the cost of one row per
    batch and model: ``scores`` holds a little-endian float32 per position of the snapshot
    (NaN where the record was refused) and ``decisions`` one byte per position, an index into
    ``tasks.scoring.model.DECISIONS`` (255 where refused). Actioned decisions also get a
    :class:`Score` row, which enforcement, reviews and labels refer to; an allow decision needs
    none, and not writing ~1,000 wide rows with their index entries a batch is what keeps
    scoring's store short (``tasks.scoring.decisions`` packs and reads them). A redelivered
    batch has the same content-addressed snapshot, so the unique key keeps one row.
    """

    __tablename__ = "decision_batches"
    __table_args__ = (
        UniqueConstraint("snapshot_id", "model_version").ddl_if(dialect="sqlite"),
        # Partitioned on PostgreSQL by the snapshot's ``received_at``, which a unique key must
        # hold: a snapshot has one, so this refuses the same duplicates as the key above.
        UniqueConstraint("snapshot_id", "model_version", "received_at").ddl_if(
            dialect="postgresql"
        ),
        ForeignKeyConstraint(["snapshot_id"], ["signal_snapshots.id"]).ddl_if(dialect="sqlite"),
        ForeignKeyConstraint(
            ["snapshot_id", "received_at"],
            ["signal_snapshots.id", "signal_snapshots.received_at"],
            onupdate="CASCADE",  # the copy follows a snapshot's corrected receipt time
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str] = mapped_column(String(64))
    shadow: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(String(16))
    # Decisions by kind, so that counting them never unpacks a batch.
    allowed: Mapped[int] = mapped_column(Integer)
    reviewed: Mapped[int] = mapped_column(Integer)
    restricted: Mapped[int] = mapped_column(Integer)
    banned: Mapped[int] = mapped_column(Integer)
    scores: Mapped[bytes] = mapped_column(LargeBinary)
    decisions: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # The snapshot's ``received_at``: PostgreSQL's partition key, so that a month's batches go
    # with that month's snapshots. Written on PostgreSQL only (None on SQLite).
    received_at: Mapped[dt.datetime | None] = mapped_column()


class AccountDecision(Base):
    """Where an account was decided on: its position in a snapshot, whose :class:`DecisionBatch`
    rows hold every model's decision. The per-account index of all decisions, allow included,
    kept as narrow as it can be (no row id on SQLite): its random inserts are what a batch's
    store costs most."""

    __tablename__ = "account_decisions"
    __table_args__ = (
        # On PostgreSQL the primary key also holds ``received_at`` (the partition key), a copy of
        # the snapshot's: it refuses the same duplicates.
        ForeignKeyConstraint(["snapshot_id"], ["signal_snapshots.id"]).ddl_if(dialect="sqlite"),
        ForeignKeyConstraint(
            ["snapshot_id", "received_at"],
            ["signal_snapshots.id", "signal_snapshots.received_at"],
            onupdate="CASCADE",  # the copy follows a snapshot's corrected receipt time
        ).ddl_if(dialect="postgresql"),
        {"sqlite_with_rowid": False},
    )

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    # As DecisionBatch.received_at: PostgreSQL's partition key, None on SQLite.
    received_at: Mapped[dt.datetime | None] = mapped_column()


class Score(Base):
    """An actioned decision (review, restrict or ban) of one model on one record: what
    enforcement acts on, reviews and appeals refer to and labels are attached to. Allow
    decisions are kept only in :class:`DecisionBatch`."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("account_id", "stage", "observed_at", "model_version"),
        # PostgreSQL's partitioned snapshots can be referred to only with their partition key,
        # which a score does not carry: there retention checks that no score refers to a
        # snapshot before it deletes one or drops its month (tasks.retention.run).
        ForeignKeyConstraint(["snapshot_id"], ["signal_snapshots.id"]).ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(Integer, index=True)
    # Position of the account in the snapshot's records, to find what the model saw.
    position: Mapped[int] = mapped_column(Integer)
    # Looked up by account through the unique constraint, which starts with it.
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"))
    stage: Mapped[str] = mapped_column(String(16))
    observed_at: Mapped[dt.datetime]
    model_version: Mapped[str] = mapped_column(String(64))
    shadow: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))
    # The feature row the model saw, kept for actioned accounts only, so that enforcement can
    # explain the decision exactly without recomputing features from a moved neighbourhood.
    features: Mapped[list[Any] | None]
    # Top feature contributions (XGBoost pred_contribs), filled in by enforcement for actioned
    # accounts: exact contributions cost hundreds of predictions, too much for the scoring path.
    reasons: Mapped[list[Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EnforcementAction(Base):
    __tablename__ = "enforcement_actions"
    __table_args__ = (
        # A redelivered or concurrent enforcement task finds its action already there: one
        # automatic action per score. A person's decision on a review is a second action on the
        # same score, one per review (``origin_id``).
        Index(
            "uq_enforcement_actions_one_automatic",
            "score_id",
            unique=True,
            sqlite_where=text("origin_id IS NULL"),
            postgresql_where=text("origin_id IS NULL"),
        ),
        # "Doubles no ban": one active ban per account, whatever path tries to add another.
        Index(
            "uq_enforcement_actions_one_active_ban",
            "account_id",
            unique=True,
            sqlite_where=text("action = 'ban' AND status = 'active'"),
            postgresql_where=text("action = 'ban' AND status = 'active'"),
        ),
        # The review queue, oldest first: the few pending cases among all actions ever taken,
        # read in order (the console's pages, ``review next``, the expiry of stale cases).
        Index(
            "ix_enforcement_actions_pending_reviews",
            "created_at",
            "id",
            sqlite_where=text("action = 'review' AND status = 'pending'"),
            postgresql_where=text("action = 'review' AND status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id"))
    action: Mapped[str] = mapped_column(String(16))  # ban | restrict | review
    # scheduled (decided, put in force at ``release_at``) | active | shadow (recorded, not
    # enforced) | pending (review awaiting a person) | decided (review a person enforced) |
    # dismissed (review a person or the clock let go) | expired (restriction whose term ended) |
    # reversed (overturned on appeal) | superseded (the account was banned before its release)
    status: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any] | None]
    policy_version: Mapped[str] = mapped_column(String(32))
    # The policy rule that chose the action (``tasks.enforcement.policy``).
    rule: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    # The review this action decided, when a person decided it.
    origin_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_actions.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When a scheduled action is put in force (``tasks.enforcement.release``).
    release_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # End of a temporary restriction: beat lifts it then (``tasks.enforcement.expiry``).
    expires_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    reversed_at: Mapped[dt.datetime | None]
    reversed_by: Mapped[str | None] = mapped_column(String(64))
    reversal_reason: Mapped[str | None] = mapped_column(Text)
    # The statement of reasons the account holder reads, for a ban or restriction: language,
    # text and appeal reference (``tasks.enforcement.statements``); delivered with the action.
    statement: Mapped[dict[str, Any] | None]


class AuditEvent(Base):
    """Append-only trail of who did what to which enforcement action or legal notice."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    # The name of who acted, as it was then; ``user_id`` is the person or service when one
    # decided (NULL: the system itself), ``channel`` where from (infra.users.Channel).
    actor: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """A hand-off to an outside receiver, recorded before it leaves: (kind, ref_id) is sent at
    most once per attempt, and a row recorded but never confirmed is sent again by the sweep
    (``infra.deliveries``)."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("kind", "ref_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # platform_action | legal_notice
    ref_id: Mapped[int] = mapped_column(Integer)
    sink: Mapped[str] = mapped_column(Text)
    # What the receiver is sent (with its idempotency key), kept to send it again unchanged.
    item: Mapped[dict[str, Any] | None] = mapped_column()
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempted_at: Mapped[dt.datetime | None] = mapped_column()
    # When the receiver took it; NULL while it waits for its first (or another) attempt.
    delivered_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # pending (waiting for an attempt) | delivered | failed (refused for good, or out of
    # attempts: kept as a dead letter until ``bulkguard deliveries retry``) | retry_requested
    # (failed, and an operator asked a worker to send it again through ``sink``) | cancelled (an
    # action that failed to reach the platform and was lifted since: never to be sent)
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    last_error: Mapped[str | None] = mapped_column(Text)


class BanCount(Base):
    """Automatic bans put in force per minute: the rate the ban-storm breaker watches."""

    __tablename__ = "ban_counts"

    minute: Mapped[dt.datetime] = mapped_column(primary_key=True)
    bans: Mapped[int] = mapped_column(Integer, default=0)


class Breaker(Base):
    """A safety valve's state: open holds automatic bans for review until a person resets it."""

    __tablename__ = "breakers"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    open: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime | None] = mapped_column()
    changed_by: Mapped[str | None] = mapped_column(String(64))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Appeal(Base):
    """A person's decision on an appeal against an enforcement action: one per action, so an
    appeal sent twice decides once."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))  # uphold | overturn
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Label(Base):
    """What a person found an account to be, against the score that was decided: a review's
    outcome or an appeal's. Training reads these (``bulkguard labels export``)."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("score_id", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id"))
    abusive: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # review | appeal
    # The action decided on (the review, or the action appealed against).
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"))
    decided_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Company(Base):
    """A company behind evidence. Names do not identify companies (two firms may share one):
    a company is made from the strong key it was first seen by (``origin_key``, e.g.
    ``domain:acme.sk``, ``email:…``, ``phone:+421…``, ``account:…``), which also keeps a
    redelivered linking run from making it twice."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    normalized_name: Mapped[str] = mapped_column(String(200), index=True)
    origin_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    # Set when the company was found to be another one (a shared strong key, or an operator's
    # merge): its keys, evidence and accounts now belong to that company.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CompanySeparation(Base):
    """Two companies an operator split apart: evidence that shares keys of both links to both
    and never merges them again. Stored once per pair, lower id first."""

    __tablename__ = "company_separations"
    __table_args__ = (UniqueConstraint("company_id", "other_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CompanyIndicator(Base):
    """Names, aliases, domains, e-mail addresses and phone numbers that identify a company."""

    __tablename__ = "company_indicators"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # name | domain | email | phone
    value: Mapped[str] = mapped_column(String(320))


class Document(Base):
    """A document as it was received, whole and immutable, addressed by the SHA-256 of its bytes.

    Stored once however often it is seen: each sighting is an evidence row pointing here. The
    body is zlib-compressed; bodies over the store's bound keep their first part, and say so.
    """

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)  # bytes as received
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # on_platform | off_platform
    kind: Mapped[str] = mapped_column(String(32))  # enforcement | public_claim | report | ...
    observed_at: Mapped[dt.datetime]
    url: Mapped[str | None] = mapped_column(Text)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.account_id"))
    # Whether the document itself claims bulk or automated sending (off-platform evidence).
    claims_bulk: Mapped[bool] = mapped_column(Boolean, default=False)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    indicators: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The ban this is evidence of (on-platform evidence): it stands only while the ban does.
    action_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_actions.id"), index=True)
    # The preserved document this sighting is of (off-platform evidence), and who sent it.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    submitted_by: Mapped[str | None] = mapped_column(String(200))


class EvidenceLink(Base):
    __tablename__ = "evidence_links"
    __table_args__ = (UniqueConstraint("evidence_id", "company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    method: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AccountCompanyLink(Base):
    __tablename__ = "account_company_links"
    __table_args__ = (UniqueConstraint("account_id", "company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"))
    method: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)


# A notice is open while it can still become a letter; a company has at most one open notice.
OPEN_NOTICE_STATUSES = ("draft", "pending_review", "approved")


class LegalNotice(Base):
    """A letter to a company, through its status machine (``tasks.legal.notice_status``)."""

    __tablename__ = "legal_notices"
    __table_args__ = (
        Index(
            "uq_legal_notices_one_open_per_company",
            "company_id",
            unique=True,
            sqlite_where=text("status IN ('draft', 'pending_review', 'approved')"),
            postgresql_where=text("status IN ('draft', 'pending_review', 'approved')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The notice's own reference, quoted in the letter and in every reply.
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    policy_version: Mapped[str] = mapped_column(String(32))
    # notice | escalation (the next step after a notice the company did not heed)
    kind: Mapped[str] = mapped_column(String(16), default="notice")
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("legal_notices.id"))
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("legal_evaluations.id"))
    basis: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="en")
    # draft | pending_review | approved | sent | acknowledged | escalated | rejected | withdrawn
    status: Mapped[str] = mapped_column(String(24))
    # The current revision: its text, the evidence it cites and the SHA-256 of the text.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    cited_evidence: Mapped[list[Any]] = mapped_column(default=list)
    activity_first: Mapped[dt.datetime]
    activity_last: Mapped[dt.datetime]
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    # What a named person approved: the revision and the hash of its exact text.
    approved_by: Mapped[str | None] = mapped_column(String(64))
    # The user who approved: ``legal.send`` checks they held ``counsel`` at ``approved_at``.
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None]
    approved_revision: Mapped[int | None] = mapped_column(Integer)
    approved_sha256: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[dt.datetime | None]
    respond_by: Mapped[dt.datetime | None]
    escalated_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NoticeRevision(Base):
    """Every text a notice has had, kept: an approval names one of them."""

    __tablename__ = "notice_revisions"
    __table_args__ = (UniqueConstraint("notice_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("legal_notices.id"))
    revision: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    cited_evidence: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LegalEvaluation(Base):
    """One decision of the legal policy on a company's standing evidence, eligible or not.

    The fingerprint (company, policy, decision, evidence relied on) makes re-evaluating the same
    evidence a no-op rather than a new row."""

    __tablename__ = "legal_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    policy_version: Mapped[str] = mapped_column(String(32))
    eligible: Mapped[bool] = mapped_column(Boolean)
    basis: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    relied_on: Mapped[list[Any]] = mapped_column(default=list)
    # Evidence within the policy's margin of the cut-off: counsel decides, not the clock.
    borderline: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NoticeEvent(Base):
    """Status history of a legal notice."""

    __tablename__ = "notice_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("legal_notices.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeadLetter(Base):
    """Input that could not be processed, kept with a reason an operator can read."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Hash of (task id, record index, payload): a redelivered bad message is stored once.
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    task_name: Mapped[str] = mapped_column(String(128), index=True)
    # Indexed: every redelivered message asks whether its run was stopped at the hard limit
    # (tasks.pipeline), and after a broker failover that is every unacknowledged message.
    task_id: Mapped[str | None] = mapped_column(String(64), index=True)
    record_index: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    # For reading: what arrived, as text, cut to a bounded length.
    payload: Mapped[str] = mapped_column(Text)
    # For replaying: the whole message, zlib-compressed, in ``body_format``: ``kwargs`` (the
    # task's JSON keyword arguments for this item alone) or ``celery-json`` (a Celery JSON
    # message body as it arrived). NULL when nothing can be sent again (a pickle body, say).
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_format: Mapped[str | None] = mapped_column(String(16))
    replayed_at: Mapped[dt.datetime | None] = mapped_column()
    replayed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """A task to publish once the transaction that justifies it has committed."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    task_name: Mapped[str] = mapped_column(String(128))
    kwargs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    # Set in the consumer's own transaction when its effect (or its dead letter) commits: a
    # broker that accepted the message and then lost it leaves this NULL, and the sweep
    # publishes the message again.
    completed_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    publications: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ConsoleSession(Base):
    """A person logged in to the console. The cookie carries a random key, signed; only the
    key's SHA-256 is stored, so reading this table does not let anyone take a session over.
    Ending it here (logout, a timeout, the user disabled) ends it whatever the cookie says."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the key
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    # logout | idle | expired | disabled | password_changed
    ended_why: Mapped[str | None] = mapped_column(String(32))


class ReviewClaim(Base):
    """A reviewer's lease on a review case: one reviewer at a time, until ``expires_at``."""

    __tablename__ = "review_claims"

    review_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class EvidenceVerdict(Base):
    """A person's verdict on how the reader read a piece of off-platform evidence: the claim
    confirmed or rejected, with the reason. Labels for the evidence reader
    (``bulkguard labels export --evidence``); one per evidence, the latest standing."""

    __tablename__ = "evidence_verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), unique=True)
    # confirmed (it is an offer of bulk sending) | rejected (it is not)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AppealRequest(Base):
    """An appeal an account holder filed (through the platform's appeal service) that waits for
    a reviewer: the console's queue of appeals. Decided, it points at the decision."""

    __tablename__ = "appeal_requests"
    __table_args__ = (
        Index(
            "uq_appeal_requests_one_pending",
            "action_id",
            unique=True,
            sqlite_where=text("appeal_id IS NULL"),
            postgresql_where=text("appeal_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))


class RetentionHold(Base):
    """What a person put on legal hold: kept past its retention period until released
    (``bulkguard retention hold|release``). ``kind`` says what ``ref`` names: an account (all
    that is held about it), an enforcement action or a piece of evidence."""

    __tablename__ = "retention_holds"
    __table_args__ = (
        # One standing hold per item: holding it again is refused, releasing ends the one.
        Index(
            "uq_retention_holds_one_standing",
            "kind",
            "ref",
            unique=True,
            sqlite_where=text("released_at IS NULL"),
            postgresql_where=text("released_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # account | action | evidence
    ref: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    held_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    held_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column()
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    release_reason: Mapped[str | None] = mapped_column(Text)


class RetentionRun(Base):
    """One pass of retention over every data class. Each chunk it deletes adds to ``counts`` in
    the chunk's own transaction, so a run killed halfway is resumed, with the same cut-off
    (``now``), by the next one and its counts stay exact."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    now: Mapped[dt.datetime]
    policy_version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApiKey(Base):
    """A key an upstream service calls the HTTP api with (``bulkguard api-keys``). Its client is
    a service user, so whatever it decides (an appeal) is checked against that user's roles and
    recorded under its name. Only the key's SHA-256 is kept, as for personal tokens; a client
    may hold two keys at once while it rotates from one to the next."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # What the key may do: scoring | evidence | appeals | read (workers.api.scopes).
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[dt.datetime | None] = mapped_column()


class ApiBatch(Base):
    """Work an api client handed over: committed with its outbox row in one transaction, which
    is what its 202 promises. ``snapshot_hash`` is the content hash the scoring stage will give
    the batch's snapshot, which tells when it was scored and enforced."""

    __tablename__ = "api_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # scoring | documents
    stage: Mapped[str | None] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiIdempotency(Base):
    """The first answer to a request sent with an ``Idempotency-Key``, kept for a day: a retry
    gets it back and enqueues nothing. The key is the client's, so one client cannot read
    another's answer; the request's fingerprint refuses the same key reused for other work."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
