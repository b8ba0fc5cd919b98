"""The shadow report compares a shadow model's decisions with the live model's on the same
records, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction, utcnow
from infra.db.session import session_scope
from tasks.accounts.signals import DetectionPoint
from tasks.enforcement.shadow_report import compare
from tasks.messages import ApplyEnforcement, ScoreAccounts
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.scoring.decisions import decisions_of, scored_accounts
from tasks.scoring.model import Scorer, StageThresholds
from tasks.scoring.score_batch import score_batch
from tests.records import messaging_accounts
from tests.stages.test_enforcement_body import apply
from workers.cli.main import main

SINCE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
ACCOUNTS = messaging_accounts(150)


def stricter(scorer: Scorer) -> Scorer:
    """The same model as a shadow version that bans only the highest scores."""
    return dataclasses.replace(
        scorer,
        version=f"{scorer.version}-strict",
        thresholds={
            stage: StageThresholds(review=0.9, restrict=0.995, ban=0.9999)
            for stage in scorer.thresholds
        },
    )


def score_with_shadow(session: Session, scorer: Scorer, shadow: Scorer) -> int:
    outcome = score_batch(
        session,
        ScoreAccounts(stage=DetectionPoint.MESSAGING, accounts=ACCOUNTS),
        serving=lambda: (scorer, shadow),
        neighbours=MemoryNeighbourStore(),
        task_id="task-1",
        now=utcnow(),
    )
    request = outcome.follow_ups[0].message
    assert isinstance(request, ApplyEnforcement)
    return request.snapshot_id


def test_live_and_shadow_decisions_on_the_same_records(session: Session, scorer: Scorer) -> None:
    shadow = stricter(scorer)
    score_with_shadow(session, scorer, shadow)

    report = compare(session, since=SINCE)

    decided = {a["account_id"]: decisions_of(session, a["account_id"]) for a in ACCOUNTS}
    live = {a: d.decision for a, ds in decided.items() for d in ds if not d.shadow}
    shadowed = {a: d.decision for a, ds in decided.items() for d in ds if d.shadow}
    assert report.compared == len(live) == 150
    differing = {a for a in live if live[a] != shadowed[a]}
    assert differing, "a stricter shadow should disagree on some accounts"
    assert report.agreed == 150 - len(differing)
    assert {row["account_id"] for row in report.differing} == differing
    for (live_decision, shadow_decision), n in report.pairs.items():
        assert n == sum(
            1 for a in live if (live[a], shadowed[a]) == (live_decision, shadow_decision)
        )
    assert report.versions == {("live", scorer.version): 150, ("shadow", shadow.version): 150}
    # The shadow model's decisions never become actions, nor count as its scoring.
    assert report.shadow_actions == {}
    ids = [a["account_id"] for a in ACCOUNTS]
    assert scored_accounts(session, ids, scorer.version) == 150
    assert scored_accounts(session, ids, shadow.version) == 0
    assert compare(session, since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).compared == 0


def test_actions_recorded_in_shadow_mode_are_counted(session: Session, scorer: Scorer) -> None:
    snapshot_id = score_with_shadow(session, scorer, stricter(scorer))
    apply(
        session,
        scorer,
        ApplyEnforcement(snapshot_id=snapshot_id, model_version=scorer.version),
        mode="shadow",
    )
    made = session.scalars(
        select(EnforcementAction.action).where(EnforcementAction.status == "shadow")
    ).all()
    assert made
    report = compare(session, since=SINCE)
    assert sum(report.shadow_actions.values()) == len(made)


def test_the_command_prints_the_comparison(env: dict[str, str], scorer: Scorer) -> None:
    with session_scope() as session:
        score_with_shadow(session, scorer, stricter(scorer))
    result = CliRunner().invoke(main, ["report", "shadow", "--since", "2000-01-01", "--json"])
    assert result.exit_code == 0, result.output
    assert '"compared": 150' in result.output
    table = CliRunner().invoke(main, ["report", "shadow", "--since", "2000-01-01"])
    assert table.exit_code == 0, table.output
    assert "live vs shadow" in table.output
    assert "agreed on" in table.output


def test_an_accounts_decisions_are_listed_by_account(env: dict[str, str], scorer: Scorer) -> None:
    shadow = stricter(scorer)
    with session_scope() as session:
        snapshot_id = score_with_shadow(session, scorer, shadow)
    account = ACCOUNTS[0]["account_id"]
    result = CliRunner().invoke(main, ["decisions", account, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["model_version"], r["shadow"]) for r in rows] == [
        (scorer.version, False),
        (shadow.version, True),
    ]
    assert {(r["snapshot_id"], r["stage"]) for r in rows} == {(snapshot_id, "messaging")}
    assert all(r["decision"] in {"allow", "review", "restrict", "ban"} for r in rows)
    table = CliRunner().invoke(main, ["decisions", account])
    assert table.exit_code == 0, table.output
    assert f"{scorer.version} (acting)" in table.output
    missing = CliRunner().invoke(main, ["decisions", "nobody"])
    assert missing.exit_code != 0
    assert "no decision on account 'nobody'" in missing.output


def test_an_actioned_decision_is_listed_with_its_action_rule_and_reasons(
    env: dict[str, str], scorer: Scorer
) -> None:
    with session_scope() as session:
        snapshot_id = score_with_shadow(session, scorer, stricter(scorer))
        apply(
            session, scorer, ApplyEnforcement(snapshot_id=snapshot_id, model_version=scorer.version)
        )
    with session_scope() as session:
        action = session.scalars(
            select(EnforcementAction).order_by(EnforcementAction.id).limit(1)
        ).one()
        account, rule, reasons = action.account_id, action.rule, action.reasons
    assert reasons

    result = CliRunner().invoke(main, ["decisions", account, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    acting = next(r for r in rows if not r["shadow"])
    assert acting["action"]["rule"] == rule
    assert acting["action"]["reasons"] == reasons
    assert "statement_of_reasons" in acting["action"]  # the action carries its statement
    assert all(r["action"] is None for r in rows if r["shadow"])

    table = CliRunner().invoke(main, ["decisions", account])
    assert table.exit_code == 0, table.output
    assert f"rule {rule}, policy " in table.output
    top = reasons[0]
    assert f"+ {top['feature']} = {top['value']} ({top['contribution']:+.3f})" in table.output
