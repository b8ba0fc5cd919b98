"""The dead-letter store on SQLite and PostgreSQL: bad input kept once, with its reason."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from infra.db.models import (
    DeadLetter,
)
from infra.db.session import session_scope
from infra.dead_letters import (
    MAX_PAYLOAD_CHARS,
    Rejection,
    as_text,
    kept_with_reason,
    read_replay,
    store,
)


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


def test_the_whole_message_is_kept_for_replay_beyond_the_readable_cut(
    env: dict[str, str],
) -> None:
    records = [{"account_id": f"a-{n}", "note": "x" * 200} for n in range(1000)]
    kwargs = {"stage": "registration", "accounts": records}
    with session_scope() as session:
        store(
            session, "scoring.score_accounts", "t-big", [Rejection("defect", kwargs, replay=kwargs)]
        )
    with session_scope() as session:
        letter = session.scalars(select(DeadLetter)).one()
        assert letter.payload.endswith("more characters]")  # the readable copy is cut
        assert letter.body is not None
        assert letter.body_format == "kwargs"
        assert read_replay(letter.body, letter.body_format) == kwargs  # the replayable one is not
        assert len(letter.body) < len(letter.payload)  # and compressed


def _letters(env: dict[str, str]) -> dict[str, int]:
    """Dead letters of each kind the replay meets, by name: their ids."""
    bad_then = {"stage": "registration", "accounts": [{"account_id": "a-1"}]}
    # A Celery protocol 2 body that an older, strict decoder refused (NaN is not strict JSON).
    undecodable = b'[[], {"stage": "registration", "accounts": [{"x": NaN}]}, {}]'
    with session_scope() as session:
        store(
            session,
            "scoring.score_accounts",
            "t-1",
            [Rejection("bad: KeyError", bad_then, replay=bad_then)],
        )
        store(
            session,
            "scoring.score_accounts",
            "t-2",
            [Rejection("bad: undecodable", undecodable, replay=undecodable)],
        )
        store(
            session,
            "scoring.score_accounts",
            "t-3",
            [Rejection("bad: refused (pickle)", b"\x80\x04")],
        )
        store(
            session,
            "cli.evidence.add",
            None,
            [Rejection("bad: not JSON", "{oops", 3, replay={"a": 1})],
        )
        store(
            session,
            "enforcement.apply",
            "t-4",
            [Rejection("unrelated", {"snapshot_id": 1}, replay={"snapshot_id": 1})],
        )
    with session_scope() as session:
        return {
            row.task_id or "cli": row.id
            for row in session.scalars(select(DeadLetter).order_by(DeadLetter.id))
        }


def test_replay_sends_each_matching_dead_letter_once(env: dict[str, str]) -> None:
    from click.testing import CliRunner

    from infra.db.models import OutboxMessage
    from tests.people import cli_env
    from workers.cli.main import main

    ids = _letters(env)
    as_admin = ["--as", "oncall"]
    admin = cli_env("oncall", "admin")
    dry = CliRunner().invoke(
        main, ["dead-letters", "replay", "--reason", "BAD", "--dry-run", *as_admin], env=admin
    )
    assert dry.exit_code == 0, dry.output
    assert f"would send\t{ids['t-1']}\tscoring.score_accounts" in dry.output
    assert f"would send\t{ids['t-2']}\tscoring.score_accounts" in dry.output
    assert f"skipped\t{ids['t-3']}\tthe message was not kept whole" in dry.output
    assert f"skipped\t{ids['cli']}\t'cli.evidence.add' is not a task" in dry.output
    assert "enforcement.apply" not in dry.output  # its reason does not match
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0

    for _ in range(2):  # replaying again sends nothing twice
        done = CliRunner().invoke(
            main,
            [
                "dead-letters",
                "replay",
                "--reason",
                "BAD",
                "--task",
                "scoring.score_accounts",
                *as_admin,
            ],
            env=admin,
        )
        assert done.exit_code == 0, done.output
    with session_scope() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.dedupe_key for r in rows] == [f"replay:{ids['t-1']}", f"replay:{ids['t-2']}"]
        assert rows[1].kwargs == {"stage": "registration", "accounts": [{"x": None}]}
        assert all(r.published_at is not None for r in rows)
        replayed = session.scalars(
            select(DeadLetter.task_id).where(DeadLetter.replayed_at.is_not(None))
        ).all()
        assert sorted(t or "" for t in replayed) == ["t-1", "t-2"]


def test_the_listing_masks_contact_values_a_reason_carries(env: dict[str, str]) -> None:
    from click.testing import CliRunner

    from workers.cli.main import main

    reason = (
        "IntegrityError: duplicate key value violates unique constraint; DETAIL: Key "
        "(kind, value)=(email, sales@blastgrowth.example) already exists; call +421905123456"
    )
    with session_scope() as session:
        store(session, "evidence.link", "t-9", [Rejection(reason, {"evidence_ids": [1]})])
    listed = CliRunner().invoke(main, ["dead-letters"])
    assert listed.exit_code == 0, listed.output
    assert "evidence.link" in listed.output
    assert "sales@blastgrowth.example" not in listed.output
    assert "+421905123456" not in listed.output


def test_a_stopped_run_is_found_by_its_task_id_through_an_index(env: dict[str, str]) -> None:
    # Every redelivered message asks this (tasks.pipeline), after a failover all of them at once.
    reason = "hard time limit exceeded (TimeLimitExceeded(150)); the worker process was killed"
    with session_scope() as session:
        store(session, "scoring.score_accounts", "task-x", [Rejection(reason, {"a": 1})])
        store(session, "scoring.score_accounts", "task-y", [Rejection("bad record", {"a": 2}, 0)])
    with session_scope() as session:
        assert kept_with_reason(session, "scoring.score_accounts", "task-x", "hard time limit")
        assert not kept_with_reason(session, "scoring.score_accounts", "task-y", "hard time limit")
        assert not kept_with_reason(session, "scoring.score_accounts", None, "hard time limit")
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT task_name FROM dead_letters "
                "WHERE task_id = 'task-x' AND reason LIKE 'hard time limit%'"
            ).fetchall()
            assert "USING INDEX ix_dead_letters_task_id" in str(plan)
