"""The enforcement bodies (apply, deliver) on a real database (SQLite and PostgreSQL), rolled
back after each test. Their input is what the scoring body stored for simulated accounts."""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import (
    Account,
    AuditEvent,
    Delivery,
    EnforcementAction,
    Evidence,
    Score,
    utcnow,
)
from infra.sinks import JsonlSink
from tasks.accounts.signals import AccountSignals, DetectionPoint
from tasks.enforcement.apply import apply_actions
from tasks.enforcement.breaker import BreakerLimits
from tasks.enforcement.deliver import deliver_actions
from tasks.enforcement.policy import Mode, Policy, Restrictions, Rule
from tasks.enforcement.release import ReleaseDelay
from tasks.enforcement.safeguards import Safeguards
from tasks.evidence.on_platform import record_ban_evidence
from tasks.messages import (
    ApplyEnforcement,
    DeliverActions,
    EvaluateCompany,
    RecordBanEvidence,
    ScoreAccounts,
)
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.outcome import Outcome
from tasks.scoring.model import ACTIONED, Scorer
from tasks.scoring.score_batch import score_batch
from tasks.scoring.snapshot import feature_rows
from tests.records import messaging_accounts

# Each band gets the action of its name: the tests of the policy's own rules come after.
PLAIN = Policy(
    version="test-policy",
    rules=(
        Rule(name="ban-band", bands=("ban",), action="ban"),
        Rule(name="restrict-band", bands=("restrict",), action="restrict"),
        Rule(name="review-band", bands=("review",), action="review"),
    ),
    restrictions=Restrictions(ladder_days=(1, 7, 30)),
)
POLICY = PLAIN.version
# Released at once, and a breaker no test batch can trip: the tests of both come later.
AT_ONCE = Safeguards(
    delay=ReleaseDelay(dt.timedelta(0), dt.timedelta(0)),
    breaker=BreakerLimits(
        window=dt.timedelta(minutes=10),
        baseline=dt.timedelta(hours=24),
        multiple=5.0,
        min_bans=1_000_000,
    ),
    rng=random.Random(0),
)
NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


class RecordingNeighbours(MemoryNeighbourStore):
    """The in-memory store, keeping the account ids of every ban it is told of."""

    def __init__(self) -> None:
        super().__init__()
        self.banned: list[str] = []

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        self.banned += [r.account_id for r in records]
        super().record_bans(records)


@dataclass
class Scored:
    """A stored scoring batch: its enforcement request and the records as sent."""

    request: ApplyEnforcement
    accounts: list[dict[str, Any]]

    def record(self, account_id: str) -> dict[str, Any]:
        (found,) = [a for a in self.accounts if a["account_id"] == account_id]
        return found


def scored(session: Session, scorer: Scorer, accounts: list[dict[str, Any]]) -> Scored:
    """Score ``accounts`` as the scoring stage does, and turn every third ban into a restriction:
    the test model puts abusers far above its ban bound and almost never decides "restrict"."""
    outcome = score_batch(
        session,
        ScoreAccounts(stage=DetectionPoint.MESSAGING, accounts=accounts),
        serving=lambda: (scorer, None),
        neighbours=MemoryNeighbourStore(),
        task_id="task-1",
        now=utcnow(),
    )
    (follow_up,) = outcome.follow_ups
    request = follow_up.message
    assert isinstance(request, ApplyEnforcement)
    bans = session.scalars(
        select(Score)
        .where(Score.snapshot_id == request.snapshot_id, Score.decision == "ban")
        .order_by(Score.id)
    ).all()
    for score in bans[::3]:
        score.decision = "restrict"
    session.flush()
    return Scored(request, accounts)


def apply(
    session: Session,
    scorer: Scorer,
    request: ApplyEnforcement,
    *,
    mode: Mode = "enforce",
    neighbours: MemoryNeighbourStore | None = None,
    policy: Policy = PLAIN,
    now: dt.datetime = NOW,
    safeguards: Safeguards | None = None,
) -> Outcome:
    return apply_actions(
        session,
        request,
        mode=mode,
        policy=policy,
        scorer_for=lambda version: _only(scorer, version),
        neighbours=neighbours if neighbours is not None else MemoryNeighbourStore(),
        now=now,
        safeguards=safeguards or AT_ONCE,
    )


def _only(scorer: Scorer, version: str) -> Scorer:
    assert version == scorer.version, f"asked to explain with model {version}"
    return scorer


def actionable(session: Session, request: ApplyEnforcement) -> list[Score]:
    return list(
        session.scalars(
            select(Score)
            .where(
                Score.snapshot_id == request.snapshot_id,
                Score.model_version == request.model_version,
                Score.decision.in_(ACTIONED),
            )
            .order_by(Score.id)
        )
    )


def actions(session: Session) -> dict[int, EnforcementAction]:
    """Every action, by the id of the score it acts on."""
    return {a.score_id: a for a in session.scalars(select(EnforcementAction))}


def statuses(session: Session) -> dict[str, str]:
    return {a.account_id: a.status for a in session.scalars(select(Account))}


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_enforce_mode_puts_each_actionable_score_in_force(session: Session, scorer: Scorer) -> None:
    batch = scored(session, scorer, messaging_accounts(200))
    outcome = apply(session, scorer, batch.request)

    scores = actionable(session, batch.request)
    by_decision = {d: [s for s in scores if s.decision == d] for d in ACTIONED}
    assert all(by_decision.values()), "every kind of decision should be in the batch"
    made = actions(session)
    assert set(made) == {s.id for s in scores}
    # Exact contributions of the deciding model, from the feature rows it saw.
    expected_reasons = scorer.reasons(feature_rows(scores))
    for score, reasons in zip(scores, expected_reasons, strict=True):
        action = made[score.id]
        assert (action.account_id, action.action) == (score.account_id, score.decision)
        assert action.status == ("pending" if score.decision == "review" else "active")
        assert action.model_version == scorer.version
        assert action.score == score.score
        assert action.policy_version == POLICY
        assert action.rule == f"{score.decision}-band"
        assert action.expires_at == (
            NOW + dt.timedelta(days=1) if score.decision == "restrict" else None
        )
        assert action.actor == "classifier"
        assert reasons, f"score {score.id} ({score.score}) has no reasons"
        assert action.reasons == reasons
        assert score.reasons == reasons
        assert {"feature", "value", "contribution"} == set(reasons[0])

    after = statuses(session)
    expected_status = {"ban": "banned", "restrict": "restricted", "review": "active"}
    for score in scores:
        assert after[score.account_id] == expected_status[score.decision]
    acted_on = {s.account_id for s in scores}
    assert {after[a] for a in after if a not in acted_on} == {"active"}

    events = session.scalars(select(AuditEvent)).all()
    assert sorted(e.entity_id for e in events) == sorted(a.id for a in made.values())
    for event in events:
        action = session.get_one(EnforcementAction, event.entity_id)
        assert (event.entity, event.event, event.actor) == (
            "enforcement_action",
            f"created:{action.status}",
            "classifier",
        )
        assert event.details == {
            "action": action.action,
            "score": action.score,
            "model_version": scorer.version,
            "policy_version": POLICY,
            "rule": action.rule,
            "expires_at": action.expires_at.isoformat() if action.expires_at else None,
        }

    in_force = sorted(a.id for a in made.values() if a.action in ("ban", "restrict"))
    bans = [a for a in made.values() if a.action == "ban"]
    with_business = [a for a in bans if "business" in batch.record(a.account_id)]
    assert with_business, "some banned abusers should carry a business profile"
    assert outcome.summary == {
        "actions": len(scores),
        "scheduled": 0,
        "held": 0,
        "in_force": len(in_force),
        "evidence": len(with_business),
    }
    assert outcome.rejected == []

    key = f"{batch.request.snapshot_id}:{scorer.version}"
    deliver, bans_made = outcome.follow_ups
    assert isinstance(deliver.message, DeliverActions)
    assert deliver.dedupe_key == f"enforcement.deliver:snapshot:{key}"
    assert sorted(deliver.message.action_ids) == in_force
    assert isinstance(bans_made.message, RecordBanEvidence)
    assert bans_made.dedupe_key == f"evidence.record_bans:snapshot:{key}"
    assert bans_made.message.action_ids == sorted(a.id for a in with_business)

    # The evidence stage makes them evidence once this commits, as the pipeline runs it.
    assert count(session, Evidence) == 0
    recorded = record_ban_evidence(session, bans_made.message)
    evidence = session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert recorded.summary["evidence"] == len(evidence) == len(with_business)
    assert {e.account_id for e in evidence} == {a.account_id for a in with_business}
    assert {e.action_id for e in evidence} == set(bans_made.message.action_ids)
    assert all(isinstance(f.message, EvaluateCompany) for f in recorded.follow_ups)
    for item in evidence:
        raw = batch.record(item.account_id or "")
        business = raw["business"]
        domain = business["email"].split("@")[1]
        assert business["website"] == f"https://www.{domain}/"
        assert (item.source, item.kind, item.url, item.claims_bulk) == (
            "on_platform",
            "enforcement",
            None,
            False,
        )
        assert item.observed_at == dt.datetime.fromisoformat(raw["observed_at"])
        assert item.indicators == {
            "names": [business["name"]],
            "domains": [domain],
            "emails": [business["email"].lower()],
            "phones": [raw["phone"]],
        }
        assert item.excerpt.startswith(f"account {item.account_id} banned")


def test_a_redelivered_request_adds_nothing(session: Session, scorer: Scorer) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    first = apply(session, scorer, batch.request)
    assert first.summary["actions"] > 0
    tables = (EnforcementAction, AuditEvent, Evidence)
    before = [count(session, t) for t in tables]
    accounts_before = statuses(session)

    again = apply(session, scorer, batch.request)

    assert again.summary == {
        "actions": 0,
        "scheduled": 0,
        "held": 0,
        "in_force": 0,
        "evidence": 0,
    }
    assert again.follow_ups == []
    assert again.after_commit == []
    assert [count(session, t) for t in tables] == before
    assert statuses(session) == accounts_before


def test_shadow_mode_records_actions_and_enforces_nothing(session: Session, scorer: Scorer) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    neighbours = RecordingNeighbours()
    outcome = apply(session, scorer, batch.request, mode="shadow", neighbours=neighbours)

    scores = actionable(session, batch.request)
    made = actions(session)
    assert set(made) == {s.id for s in scores}
    for score in scores:
        action = made[score.id]
        assert action.action == score.decision
        # A review waits for a person whatever the mode; nothing else is put in force.
        assert action.status == ("pending" if score.decision == "review" else "shadow")
    assert set(statuses(session).values()) == {"active"}
    assert outcome.summary["actions"] == len(scores)
    assert outcome.summary["in_force"] == 0
    assert not any(isinstance(f.message, DeliverActions) for f in outcome.follow_ups)
    for effect in outcome.after_commit:
        effect()
    assert neighbours.banned == []


def test_shadow_bans_are_not_evidence(session: Session, scorer: Scorer) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    bans = [
        s
        for s in actionable(session, batch.request)
        if s.decision == "ban" and "business" in batch.record(s.account_id)
    ]
    assert bans, "some abusers with business profiles should be banned"
    outcome = apply(session, scorer, batch.request, mode="shadow")

    assert count(session, Evidence) == 0
    assert outcome.follow_ups == []


def test_a_ban_is_never_downgraded_nor_doubled(session: Session, scorer: Scorer) -> None:
    accounts = messaging_accounts(120)
    # Each account seen twice in one batch: two scores of the same account, a minute apart.
    later = copy.deepcopy(accounts)
    for raw in later:
        observed = dt.datetime.fromisoformat(raw["observed_at"]) + dt.timedelta(minutes=1)
        raw["observed_at"] = observed.isoformat()
    batch = scored(session, scorer, accounts + later)
    request = batch.request
    pairs: dict[str, list[Score]] = {}
    for score in actionable(session, request):
        pairs.setdefault(score.account_id, []).append(score)
    pairs = {a: sorted(p, key=lambda s: s.observed_at) for a, p in pairs.items() if len(p) == 2}
    assert len(pairs) >= 5, "enough accounts should be actioned twice"
    chosen = list(pairs)[:5]
    banned_before, restricted_then_ban, restricted_twice, ban_and_restrict, two_bans = chosen

    def decide(account_id: str, first: str, second: str) -> None:
        pairs[account_id][0].decision = first
        pairs[account_id][1].decision = second

    decide(banned_before, "ban", "restrict")
    session.get_one(Account, banned_before).status = "banned"
    decide(restricted_then_ban, "restrict", "ban")
    session.get_one(Account, restricted_then_ban).status = "restricted"
    decide(restricted_twice, "restrict", "restrict")
    session.get_one(Account, restricted_twice).status = "restricted"
    decide(ban_and_restrict, "ban", "restrict")
    decide(two_bans, "ban", "ban")
    session.flush()

    apply(session, scorer, request)

    def made_for(account_id: str) -> list[tuple[str, str]]:
        return [
            (a.action, a.status)
            for a in session.scalars(
                select(EnforcementAction)
                .where(EnforcementAction.account_id == account_id)
                .order_by(EnforcementAction.score_id)
            )
        ]

    after = statuses(session)
    # Already banned: nothing more.
    assert made_for(banned_before) == []
    assert after[banned_before] == "banned"
    # Restricted: a ban still upgrades it, another restriction adds nothing.
    assert made_for(restricted_then_ban) == [("ban", "active")]
    assert after[restricted_then_ban] == "banned"
    assert made_for(restricted_twice) == []
    assert after[restricted_twice] == "restricted"
    # Banned and restricted in one run: the strongest action only.
    assert made_for(ban_and_restrict) == [("ban", "active")]
    assert after[ban_and_restrict] == "banned"
    # One active ban per account, however many scores ask for one.
    assert made_for(two_bans) == [("ban", "active")]
    assert after[two_bans] == "banned"


def test_after_commit_counts_only_the_bans_in_force(session: Session, scorer: Scorer) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    neighbours = RecordingNeighbours()
    outcome = apply(session, scorer, batch.request, neighbours=neighbours)

    # Nothing is counted before the transaction commits.
    assert neighbours.banned == []
    assert len(outcome.after_commit) == 1
    for effect in outcome.after_commit:
        effect()
    made = actions(session).values()
    bans = sorted(a.account_id for a in made if a.action == "ban" and a.status == "active")
    assert bans
    assert any(a.action != "ban" for a in made)
    assert sorted(neighbours.banned) == bans


def test_deliver_records_each_action_in_force_once_before_it_leaves(
    session: Session, scorer: Scorer, tmp_path: Path
) -> None:
    batch = scored(session, scorer, messaging_accounts(150))
    outcome = apply(session, scorer, batch.request)
    request = next(f.message for f in outcome.follow_ups if isinstance(f.message, DeliverActions))
    made = actions(session).values()
    review = next(a for a in made if a.status == "pending")
    reversed_ = session.get_one(EnforcementAction, request.action_ids[0])
    reversed_.status = "reversed"
    session.flush()
    request = DeliverActions(action_ids=[*request.action_ids, review.id])
    sink = JsonlSink(tmp_path / "platform" / "actions.jsonl")

    first = deliver_actions(session, request, sink=sink, max_attempts=8, now=utcnow())

    expected = [a for a in made if a.status == "active"]
    assert expected
    assert {a.id for a in expected} == set(request.action_ids) - {reversed_.id, review.id}
    assert first.summary == {"recorded": len(expected)}
    assert first.follow_ups == []
    # Recorded in the stage's transaction, sent only after it commits: nothing left yet.
    assert not sink.path.exists()
    assert len(first.after_commit) == 1
    deliveries = session.scalars(select(Delivery)).all()
    assert sorted(d.ref_id for d in deliveries) == sorted(a.id for a in expected)
    assert {(d.kind, d.sink, d.delivered_at) for d in deliveries} == {
        ("platform_action", str(sink), None)
    }
    items = [d.item or {} for d in deliveries]
    by_key = {str(i["idempotency_key"]): i for i in items}
    assert set(by_key) == {f"action-{a.id}" for a in expected}
    for a in expected:
        item = by_key[f"action-{a.id}"]
        assert item == {
            "idempotency_key": f"action-{a.id}",
            "event": a.action,
            "action_id": a.id,
            "account_id": a.account_id,
            "account_status": session.get_one(Account, a.account_id).status,
            "action": a.action,
            "expires_at": a.expires_at.isoformat() if a.expires_at else None,
            "reason": a.rule,
            "policy_version": POLICY,
            "model_version": scorer.version,
            "statement_of_reasons": a.statement,
            "issued_at": item["issued_at"],
        }
        assert a.statement is not None
        assert a.statement["appeal_reference"] == f"BG-{a.id}"
        assert dt.datetime.fromisoformat(item["issued_at"]).tzinfo is not None

    second = deliver_actions(session, request, sink=sink, max_attempts=8, now=utcnow())

    assert second.summary == {"recorded": 0}
    assert second.after_commit == []
    assert count(session, Delivery) == len(expected)
