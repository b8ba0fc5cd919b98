"""State kept in the database, on SQLite and PostgreSQL: dead letters, the registry, human
approval of legal notices and appeals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError

from infra.db.models import (
    Account,
    AuditEvent,
    Base,
    Company,
    DeadLetter,
    EnforcementAction,
    LegalNotice,
    ModelVersion,
    NoticeEvent,
    Score,
    SignalSnapshot,
)
from infra.db.session import prepare_insert_ignore, session_scope
from infra.dead_letters import MAX_PAYLOAD_CHARS, Rejection, as_text, store
from infra.registry import RegistryError, register, serving_versions, set_role
from infra.settings import get_settings
from tasks.enforcement.appeals import AppealError, reverse
from tasks.legal.task import ApprovalError, decide
from tasks.scoring.task import SCORE_COLUMNS

WHEN = dt.datetime(2020, 1, 10, 12, tzinfo=dt.UTC)


# ------------------------------------------------------------------------------ dead letters


def test_dead_letter_stored_once_per_redelivery(env: dict[str, str]) -> None:
    rejections = [
        Rejection("messaging.reply_ratio: too high", {"account_id": "a", "x": 1.5}, 0, "a")
    ]
    for _ in range(2):  # the same message delivered twice
        with session_scope() as session:
            store(session, "scoring.score_accounts", "task-1", rejections)
    with session_scope() as session:
        rows = session.scalars(select(DeadLetter)).all()
        assert len(rows) == 1
        (row,) = rows
        assert row.task_name == "scoring.score_accounts"
        assert row.task_id == "task-1"
        assert row.record_index == 0
        assert row.account_id == "a"
        assert row.reason == "messaging.reply_ratio: too high"
        assert json.loads(row.payload) == {"account_id": "a", "x": 1.5}
        assert len(row.fingerprint) == 64


def test_dead_letters_of_other_records_or_tasks_are_kept_apart(env: dict[str, str]) -> None:
    with session_scope() as session:
        store(
            session,
            "scoring.score_accounts",
            "task-1",
            [Rejection("bad", {"a": 1}, 0), Rejection("bad", {"a": 1}, 1)],
        )
        store(session, "scoring.score_accounts", "task-2", [Rejection("bad", {"a": 1}, 0)])
        store(session, "scoring.score_accounts", None, [Rejection("bad", b"\xff\x00raw")])
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(DeadLetter)) == 4
        raw = session.scalars(select(DeadLetter.payload).where(DeadLetter.task_id.is_(None))).one()
        assert raw == "\\xff\\x00raw"


def test_as_text_bounds_huge_payloads() -> None:
    text = as_text("x" * (MAX_PAYLOAD_CHARS + 10))
    assert text == "x" * MAX_PAYLOAD_CHARS + "... [10 more characters]"
    assert as_text({"b": float("nan")}) == '{"b":null}'
    assert as_text({1: object}).startswith("{1: <class")


# ---------------------------------------------------------------------------------- registry


def fake_model(version: str) -> Path:
    directory = get_settings().models_dir / version
    directory.mkdir(parents=True)
    card = {
        "version": version,
        "created_at": "2020-01-01T00:00:00+00:00",
        "metrics": {"roc_auc": 0.99, "pr_auc": 0.9},
        "thresholds": {"registration": {"review": 0.5, "restrict": 0.8, "ban": 0.9}},
    }
    (directory / "card.json").write_text(json.dumps(card))
    return directory


def roles() -> dict[str, str]:
    with session_scope() as session:
        return dict(session.execute(select(ModelVersion.version, ModelVersion.role)).all())


def test_registering_twice_keeps_one_row(env: dict[str, str]) -> None:
    directory = fake_model("m-a")
    for _ in range(2):
        with session_scope() as session:
            row = register(session, directory)
            assert row.role == "candidate"
            assert row.path == "m-a/model.ubj"
    assert roles() == {"m-a": "candidate"}
    manifest = json.loads((get_settings().models_dir / "manifest.json").read_text())
    assert [m["version"] for m in manifest["models"]] == ["m-a"]


def test_one_active_model_at_a_time(env: dict[str, str]) -> None:
    with session_scope() as session:
        for version in ("m-a", "m-b", "m-c"):
            register(session, fake_model(version))
    with session_scope() as session:
        set_role(session, "m-a", "active")
    assert roles() == {"m-a": "active", "m-b": "candidate", "m-c": "candidate"}
    with session_scope() as session:
        set_role(session, "m-b", "active")
    assert roles() == {"m-a": "retired", "m-b": "active", "m-c": "candidate"}
    with session_scope() as session:
        set_role(session, "m-c", "shadow")
        set_role(session, "m-b", "active")  # again: nothing changes
    assert roles() == {"m-a": "retired", "m-b": "active", "m-c": "shadow"}
    with session_scope() as session:
        serving = serving_versions(session)
        assert {role: row.version for role, row in serving.items()} == {
            "active": "m-b",
            "shadow": "m-c",
        }
    with session_scope() as session:
        set_role(session, "m-a", "shadow")
    assert roles() == {"m-a": "shadow", "m-b": "active", "m-c": "retired"}


def test_registry_errors(env: dict[str, str]) -> None:
    with session_scope() as session:
        register(session, fake_model("m-a"))
    with session_scope() as session, pytest.raises(RegistryError, match="no model version"):
        set_role(session, "m-missing", "active")
    with session_scope() as session, pytest.raises(RegistryError, match="unknown role"):
        set_role(session, "m-a", "boss")
    assert roles() == {"m-a": "candidate"}


def test_database_refuses_two_active_models(env: dict[str, str]) -> None:
    with session_scope() as session:
        session.add_all(
            [
                ModelVersion(version=v, role="active", path=f"{v}/model.ubj", card={})
                for v in ("x-1", "x-2")
            ]
        )
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
    assert roles() == {}


# ----------------------------------------------------------------------- legal notice approval


def draft_notice() -> int:
    with session_scope() as session:
        company = Company(name="Reach Media s.r.o.", normalized_name="reach media")
        session.add(company)
        session.flush()
        notice = LegalNotice(
            company_id=company.id,
            policy_version="2019-12-07.1",
            basis="on_platform",
            status="awaiting_approval",
            cited_evidence=[1, 2],
            activity_first=WHEN,
            activity_last=WHEN,
            body="NOTICE",
        )
        session.add(notice)
        session.flush()
        return notice.id


def test_approval_records_the_person(env: dict[str, str]) -> None:
    notice_id = draft_notice()
    with session_scope() as session:
        decide(session, notice_id, approve=True, actor="counsel@example.sk", note="checked")
    with session_scope() as session:
        notice = session.get_one(LegalNotice, notice_id)
        assert notice.status == "approved"
        assert notice.approved_by == "counsel@example.sk"
        assert notice.approved_at is not None
        assert notice.approved_at.tzinfo is not None
        events = session.scalars(
            select(NoticeEvent).where(NoticeEvent.notice_id == notice_id)
        ).all()
        assert [(e.status, e.actor, e.note) for e in events] == [
            ("approved", "counsel@example.sk", "checked")
        ]


def test_rejection_is_recorded_without_approver(env: dict[str, str]) -> None:
    notice_id = draft_notice()
    with session_scope() as session:
        decide(session, notice_id, approve=False, actor="counsel", note="weak evidence")
    with session_scope() as session:
        notice = session.get_one(LegalNotice, notice_id)
        assert notice.status == "rejected"
        assert notice.approved_by is None
        assert notice.approved_at is None


def test_approval_needs_a_person(env: dict[str, str]) -> None:
    notice_id = draft_notice()
    for actor in ("", "   "):
        with session_scope() as session, pytest.raises(ApprovalError, match="name the person"):
            decide(session, notice_id, approve=True, actor=actor, note="")
    with session_scope() as session:
        assert session.get_one(LegalNotice, notice_id).status == "awaiting_approval"


def test_a_notice_is_decided_once(env: dict[str, str]) -> None:
    notice_id = draft_notice()
    with session_scope() as session:
        decide(session, notice_id, approve=True, actor="first", note="")
    for approve in (True, False):
        with session_scope() as session, pytest.raises(ApprovalError, match="is approved"):
            decide(session, notice_id, approve=approve, actor="second", note="")
    with session_scope() as session:
        notice = session.get_one(LegalNotice, notice_id)
        assert (notice.status, notice.approved_by) == ("approved", "first")
        assert session.scalar(select(func.count()).select_from(NoticeEvent)) == 1


def test_unknown_notice(env: dict[str, str]) -> None:
    with session_scope() as session, pytest.raises(ApprovalError, match="no legal notice 999"):
        decide(session, 999, approve=True, actor="counsel", note="")


# ------------------------------------------------------------------------------------ appeals


def enforced(account_status: str, actions: list[tuple[str, str]]) -> list[int]:
    """An account with one enforcement action per (action, status); returns the action ids."""
    with session_scope() as session:
        session.add(
            Account(
                account_id="acc-1",
                phone="+421905123456",
                country="SK",
                phone_block="+421905123",
                status=account_status,
            )
        )
        snapshot = SignalSnapshot(
            content_hash="h" * 64, stage="messaging", task_id="t", record_count=1, records=b"[]"
        )
        session.add(snapshot)
        session.flush()
        ids = []
        for position, (action, status) in enumerate(actions):
            score = Score(
                snapshot_id=snapshot.id,
                position=position,
                account_id="acc-1",
                stage="messaging",
                observed_at=WHEN + dt.timedelta(minutes=position),
                model_version="m-a",
                shadow=False,
                score=0.99,
                decision=action,
                reasons=[],
            )
            session.add(score)
            session.flush()
            row = EnforcementAction(
                account_id="acc-1",
                score_id=score.id,
                action=action,
                status=status,
                model_version="m-a",
                score=0.99,
                reasons=[],
                policy_version="2019-12-07.1",
                actor="classifier",
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
        return ids


def account_status() -> str:
    with session_scope() as session:
        return session.get_one(Account, "acc-1").status


def test_reversing_a_ban_restores_the_account_and_is_audited(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    with session_scope() as session:
        action = reverse(session, ban, actor="agent-7", reason="family business, verified")
        assert action.status == "reversed"
    assert account_status() == "active"
    with session_scope() as session:
        action = session.get_one(EnforcementAction, ban)
        assert action.status == "reversed"
        assert action.reversed_by == "agent-7"
        assert action.reversal_reason == "family business, verified"
        assert action.reversed_at is not None
        events = session.scalars(select(AuditEvent)).all()
        assert [(e.entity, e.entity_id, e.event, e.actor, e.details) for e in events] == [
            (
                "enforcement_action",
                ban,
                "reversed",
                "agent-7",
                {"reason": "family business, verified", "previous_status": "active"},
            )
        ]


def test_reversing_a_ban_leaves_a_restriction_in_force(env: dict[str, str]) -> None:
    restrict, ban = enforced("banned", [("restrict", "active"), ("ban", "active")])
    with session_scope() as session:
        reverse(session, ban, actor="agent", reason="appeal upheld")
    assert account_status() == "restricted"
    with session_scope() as session:
        reverse(session, restrict, actor="agent", reason="appeal upheld")
    assert account_status() == "active"


def test_reversing_twice_is_refused(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    with session_scope() as session:
        reverse(session, ban, actor="agent", reason="appeal upheld")
    with session_scope() as session, pytest.raises(AppealError, match="already reversed"):
        reverse(session, ban, actor="other", reason="again")
    with session_scope() as session:
        assert session.get_one(EnforcementAction, ban).reversed_by == "agent"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_reversal_needs_a_person_and_a_reason(env: dict[str, str]) -> None:
    (ban,) = enforced("banned", [("ban", "active")])
    for actor, reason in [("", "why"), ("who", " "), ("  ", "")]:
        with session_scope() as session, pytest.raises(AppealError, match="who decided"):
            reverse(session, ban, actor=actor, reason=reason)
    assert account_status() == "banned"
    with session_scope() as session:
        assert session.get_one(EnforcementAction, ban).status == "active"


def test_reversing_an_unknown_action(env: dict[str, str]) -> None:
    with session_scope() as session, pytest.raises(AppealError, match="no enforcement action 42"):
        reverse(session, 42, actor="agent", reason="why")


def test_database_refuses_a_second_active_ban(env: dict[str, str]) -> None:
    with pytest.raises(IntegrityError):
        enforced("banned", [("ban", "active"), ("ban", "active")])
    ids = enforced("banned", [("ban", "reversed"), ("ban", "active")])
    assert len(ids) == 2


# ----------------------------------------------------------------------------- bulk inserts


def test_bulk_inserts_store_what_the_orm_stores(env: dict[str, str]) -> None:
    enforced("active", [])
    with session_scope() as session:
        snapshot_id = session.scalar(select(SignalSnapshot.id))
        later = WHEN + dt.timedelta(hours=1, microseconds=5)
        rows: list[tuple[object, ...]] = [
            (
                snapshot_id,
                0,
                "acc-1",
                "messaging",
                WHEN,
                "m-b",
                False,
                0.25,
                "allow",
                None,
                None,
                WHEN,
            ),
            (
                snapshot_id,
                1,
                "acc-1",
                "messaging",
                later,
                "m-b",
                True,
                0.75,
                "ban",
                [1.5, None],
                [],
                WHEN,
            ),
        ]
        prepared = prepare_insert_ignore(session, Score, SCORE_COLUMNS, rows)
        prepared.execute(session)
        prepared.execute(session)  # a redelivery: ignored
    with session_scope() as session:
        stored = session.scalars(select(Score).order_by(Score.position)).all()
        got = [tuple(getattr(s, c) for c in SCORE_COLUMNS) for s in stored]
    assert got == rows
    assert stored[1].observed_at.tzinfo is not None


def test_a_prepared_insert_takes_an_id_known_only_when_writing(env: dict[str, str]) -> None:
    enforced("active", [])
    with session_scope() as session:
        snapshot_id = session.scalar(select(SignalSnapshot.id))
        row = (None, 0, "acc-1", "feedback", WHEN, "m-c", False, 0.5, "allow", None, None, WHEN)
        prepare_insert_ignore(session, Score, SCORE_COLUMNS, [row]).execute(
            session, snapshot_id=snapshot_id
        )
    with session_scope() as session:
        assert session.scalar(select(Score.snapshot_id).where(Score.model_version == "m-c")) == (
            snapshot_id
        )


def test_bulk_inserts_need_every_column_with_a_python_default(env: dict[str, str]) -> None:
    without_default = tuple(c for c in SCORE_COLUMNS if c != "created_at")
    with session_scope() as session, pytest.raises(ValueError, match="created_at"):
        prepare_insert_ignore(session, Score, without_default, [(1,) * len(without_default)])


def test_migrations_build_the_schema_the_models_declare(database_url: str) -> None:
    # database_url is migrated to head: any difference means a model change without migration.
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


def test_json_columns_take_what_orjson_refuses(env: dict[str, str]) -> None:
    # Dead-lettered input may hold integers beyond 64 bits; the standard library stores them.
    with session_scope() as session:
        session.add(
            AuditEvent(entity="test", entity_id=1, event="big", actor="t", details={"n": 2**70})
        )
    with session_scope() as session:
        stored = session.scalar(select(AuditEvent.details).where(AuditEvent.event == "big"))
    assert stored == {"n": 2**70}
