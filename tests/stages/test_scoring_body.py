"""The scoring body on a real database (SQLite and PostgreSQL), rolled back after each test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import Account, AccountDecision, DecisionBatch, Score, SignalSnapshot, utcnow
from infra.registry import read_card
from tasks.accounts.signals import DetectionPoint
from tasks.messages import ApplyEnforcement, ScoreAccounts
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.outcome import Outcome
from tasks.scoring import snapshot
from tasks.scoring.decisions import decisions_at, decisions_of
from tasks.scoring.model import ACTIONED, Scorer
from tasks.scoring.score_batch import score_batch
from tasks.scoring.snapshot import feature_rows, records_at
from tests.records import messaging_accounts, messaging_block, record


def run(
    session: Session, scorer: Scorer, accounts: list[Any], *, shadow: Scorer | None = None
) -> Outcome:
    return score_batch(
        session,
        ScoreAccounts(stage=DetectionPoint.MESSAGING, accounts=accounts),
        serving=lambda: (scorer, shadow),
        neighbours=MemoryNeighbourStore(),
        task_id="task-1",
        now=utcnow(),
    )


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_batch_is_stored_and_its_actions_handed_on(session: Session, scorer: Scorer) -> None:
    accounts = messaging_accounts(300)
    outcome = run(session, scorer, accounts)

    assert outcome.summary["scored"] == 300
    assert outcome.rejected == []
    assert count(session, SignalSnapshot) == 1
    assert count(session, Account) == 300
    snapshot_id = outcome.summary["snapshot_id"]
    # Every decision is kept in the batch's packed row, and every account is indexed to it.
    (batch,) = session.scalars(select(DecisionBatch)).all()
    assert (batch.snapshot_id, batch.model_version, batch.shadow) == (
        snapshot_id,
        scorer.version,
        False,
    )
    decided = decisions_at(session, snapshot_id, scorer.version)
    assert sorted(decided) == list(range(300))
    assert batch.allowed + batch.reviewed + batch.restricted + batch.banned == 300
    assert batch.allowed == sum(1 for d in decided.values() if d.decision == "allow")
    indexed = session.execute(select(AccountDecision.account_id, AccountDecision.position))
    assert sorted(indexed) == sorted((a["account_id"], i) for i, a in enumerate(accounts))
    # Actioned decisions, and only those, are score rows with the row the model saw, for
    # enforcement to act on and explain.
    scores = session.scalars(select(Score)).all()
    assert scores, "the simulated abusers should be actioned"
    assert outcome.summary["actioned"] == len(scores)
    assert {s.position for s in scores} == {p for p, d in decided.items() if d.decision in ACTIONED}
    for s in scores:
        assert (s.decision, s.score) == (decided[s.position].decision, decided[s.position].score)
        assert s.features is not None
        assert s.model_version == scorer.version

    (follow_up,) = outcome.follow_ups
    assert follow_up.message == ApplyEnforcement(
        snapshot_id=snapshot_id, model_version=scorer.version
    )
    assert follow_up.dedupe_key == f"enforcement.apply:{snapshot_id}:{scorer.version}"


def test_what_the_snapshot_keeps_is_what_the_model_saw(session: Session, scorer: Scorer) -> None:
    accounts = messaging_accounts(200)
    run(session, scorer, accounts)
    actioned = session.scalars(select(Score).where(Score.decision.in_(ACTIONED))).all()
    assert actioned
    # The record at each score's position is the account it scored.
    snapshot_id = actioned[0].snapshot_id
    records = records_at(session, snapshot_id, {s.id: s.position for s in actioned})
    assert {records[s.id].account_id for s in actioned} == {s.account_id for s in actioned}
    # Re-scoring the stored feature rows gives the stored scores.
    again = scorer.predict(feature_rows(actioned))
    assert again.tolist() == pytest.approx([s.score for s in actioned], abs=1e-6)


def test_a_redelivered_batch_adds_nothing(session: Session, scorer: Scorer) -> None:
    accounts = messaging_accounts(100)
    first = run(session, scorer, accounts)
    second = run(session, scorer, accounts)
    assert second.summary["snapshot_id"] == first.summary["snapshot_id"]
    assert count(session, SignalSnapshot) == 1
    assert count(session, DecisionBatch) == 1
    assert count(session, AccountDecision) == 100
    assert count(session, Score) == first.summary["actioned"]
    assert [f.dedupe_key for f in second.follow_ups] == [f.dedupe_key for f in first.follow_ups]


@pytest.mark.parametrize("lookup_from", [1, 1000], ids=["looked-up", "offered"])
def test_known_accounts_keep_their_first_sighting(
    session: Session, scorer: Scorer, monkeypatch: pytest.MonkeyPatch, lookup_from: int
) -> None:
    # Large batches look the known accounts up first, small ones offer every row: the same rows.
    monkeypatch.setattr(snapshot, "_LOOKUP_FROM", lookup_from)
    first = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    run(session, scorer, [record("known", registered_at=first, messaging=messaging_block())])
    later = first + dt.timedelta(days=2)
    # The same account again beside a new one, and the new one twice in the batch.
    accounts = [
        record("known", registered_at=first, observed_at=later, messaging=messaging_block()),
        record("new", registered_at=first, observed_at=later, messaging=messaging_block()),
        record(
            "new",
            registered_at=first,
            observed_at=later + dt.timedelta(minutes=5),
            messaging=messaging_block(),
        ),
    ]
    outcome = run(session, scorer, accounts)

    assert outcome.summary["scored"] == 3
    seen = dict(session.execute(select(Account.account_id, Account.first_seen_at)).all())
    assert seen == {"known": first + dt.timedelta(minutes=1), "new": later}
    indexed = session.execute(
        select(AccountDecision.account_id, AccountDecision.position).where(
            AccountDecision.snapshot_id == outcome.summary["snapshot_id"]
        )
    )
    assert sorted(indexed) == [("known", 0), ("new", 1), ("new", 2)]


def test_a_bad_record_rejects_only_itself(session: Session, scorer: Scorer) -> None:
    good = record("good", messaging=messaging_block())
    bad = record("bad", messaging=messaging_block(reply_ratio=1.5))
    missing = record("missing")  # no messaging block at the messaging stage
    outcome = run(session, scorer, [good, bad, missing, "not a record"])

    assert outcome.summary == {
        "scored": 1,
        "rejected": 3,
        "actioned": outcome.summary["actioned"],
        "snapshot_id": outcome.summary["snapshot_id"],
    }
    reasons = {r.record_index: (r.account_id, r.reason) for r in outcome.rejected}
    assert reasons[1] == ("bad", "messaging.reply_ratio: Expected `float` <= 1.0")
    assert reasons[2] == ("missing", "stage 'messaging' requires the messaging block")
    assert reasons[3][0] is None
    snapshot_id = outcome.summary["snapshot_id"]
    assert list(decisions_at(session, snapshot_id, scorer.version)) == [0]
    indexed = session.execute(select(AccountDecision.account_id, AccountDecision.position))
    assert list(indexed) == [("good", 0)]
    (decided,) = decisions_of(session, "good")
    assert (decided.snapshot_id, decided.stage, decided.shadow) == (snapshot_id, "messaging", False)


def test_a_batch_without_valid_records_needs_no_model(session: Session) -> None:
    def no_model() -> tuple[Scorer, Scorer | None]:
        raise AssertionError("the model was asked for")

    outcome = score_batch(
        session,
        ScoreAccounts(stage=DetectionPoint.MESSAGING, accounts=[{"account_id": "x"}]),
        serving=no_model,
        neighbours=MemoryNeighbourStore(),
        task_id=None,
        now=utcnow(),
    )
    assert outcome.summary == {"scored": 0, "rejected": 1}
    assert outcome.follow_ups == []
    assert count(session, SignalSnapshot) == 0


def test_a_shadow_model_is_stored_and_never_acted_on(
    session: Session, scorer: Scorer, trained_model_dir: Path
) -> None:
    card = read_card(trained_model_dir)
    shadow = Scorer.load("shadow-version", trained_model_dir / "model.ubj", card, threads=1)
    outcome = run(session, scorer, messaging_accounts(100), shadow=shadow)

    (batch,) = session.scalars(select(DecisionBatch).where(DecisionBatch.shadow)).all()
    assert batch.model_version == "shadow-version"
    assert len(decisions_at(session, batch.snapshot_id, "shadow-version")) == 100
    rows = session.scalars(select(Score).where(Score.shadow.is_(True))).all()
    assert len(rows) == batch.reviewed + batch.restricted + batch.banned
    assert all(r.model_version == "shadow-version" and r.features is None for r in rows)
    # Each account has the acting and the shadow model's decision.
    account = messaging_accounts(100)[0]["account_id"]
    assert sorted(d.shadow for d in decisions_of(session, account)) == [False, True]
    assert [f.message for f in outcome.follow_ups] == [
        ApplyEnforcement(snapshot_id=outcome.summary["snapshot_id"], model_version=scorer.version)
    ]
