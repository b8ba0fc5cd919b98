"""Statements of reasons as enforcement writes them (SQLite and PostgreSQL): one with every ban
and restriction, in the account's language, delivered with the action, and holding no score, no
feature value and nothing of another account."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Account, Delivery, EnforcementAction, utcnow
from infra.sinks import JsonlSink
from tasks.enforcement.appeals import decide_appeal
from tasks.enforcement.deliver import PLATFORM_ACTION, PLATFORM_LIFT, deliver_actions
from tasks.enforcement.statements import language_for
from tasks.messages import DeliverActions
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.scoring.model import Scorer
from tests.people import person
from tests.records import messaging_accounts
from tests.stages.test_enforcement_body import apply, scored
from tests.stages.test_reviews_and_expiry import decide

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _allowed_numbers(action: EnforcementAction) -> set[str]:
    """The only numbers a statement may hold: its dates and times, its appeal reference and
    the policy version."""
    allowed = {str(action.id), *NUMBER.findall(action.policy_version)}
    for moment in (action.release_at or action.created_at, action.expires_at):
        if moment is not None:
            allowed |= {str(moment.year), str(moment.day), f"{moment:%H}", f"{moment:%M}"}
    return allowed


def test_every_ban_and_restriction_carries_a_statement_without_scores_or_others_data(
    session: Session, scorer: Scorer, tmp_path: Path
) -> None:
    accounts = messaging_accounts(200)
    for n, account in enumerate(accounts):
        if n % 2:
            account["language"] = "sk-SK"
    batch = scored(session, scorer, accounts)
    apply(session, scorer, batch.request)

    made = session.scalars(select(EnforcementAction).order_by(EnforcementAction.id)).all()
    stated = [a for a in made if a.action in ("ban", "restrict")]
    assert {a.action for a in stated} == {"ban", "restrict"}
    assert all(a.statement is None for a in made if a.action == "review")
    phones = {a["account_id"]: a["phone"] for a in accounts}
    languages_seen = set()
    for action in stated:
        statement = action.statement
        assert statement is not None
        text = statement["text"]
        country = session.get_one(Account, action.account_id).country
        language = language_for(batch.record(action.account_id).get("language"), country)
        assert statement["language"] == language
        languages_seen.add(language)
        assert statement["appeal_reference"] == f"BG-{action.id}" in text
        assert f'"{action.rule}"' in text or f"„{action.rule}“" in text
        # No score, contribution or feature value, in any notation: every number in the text
        # is a date, a time, the reference or the policy version.
        assert action.reasons
        numbers = set(NUMBER.findall(text))
        assert numbers <= _allowed_numbers(action), (numbers, action.reasons)
        assert f"{action.score}" not in text
        assert f"{action.score:.2f}" not in text
        assert f"{action.score:.3f}" not in text
        for reason in action.reasons:
            assert reason["feature"] not in text
            if reason["value"] not in (None, 0, 1):  # 0 and 1 can be a date's digit
                assert str(reason["value"]) not in text
        # Nothing of any account: no id or number, its own or another's.
        assert not [a for a, phone in phones.items() if a in text or phone in text]
        assert "By automated means" in text or "Automatizovane" in text
    assert languages_seen == {"en", "sk"}

    # Recorded for delivery with the action: the item the platform is sent carries it (sent
    # after commit, through a real worker: tests/integration/test_enforcement.py).
    sink = JsonlSink(tmp_path / "actions.jsonl")
    request = DeliverActions(action_ids=[a.id for a in stated])
    deliver_actions(session, request, sink=sink, max_attempts=8, now=action.created_at)
    items = {
        d.ref_id: d.item
        for d in session.scalars(select(Delivery).where(Delivery.kind == "platform_action"))
    }
    assert {ref: (item or {})["statement_of_reasons"] for ref, item in items.items()} == {
        a.id: a.statement for a in stated if a.status == "active"
    }


def test_a_person_s_decision_says_a_person_decided(session: Session, scorer: Scorer) -> None:
    accounts = messaging_accounts(200)
    batch = scored(session, scorer, accounts)
    apply(session, scorer, batch.request)
    review = next(
        a
        for a in session.scalars(select(EnforcementAction).order_by(EnforcementAction.id))
        if a.status == "pending"
    )

    outcome = decide(session, review.id, "ban", by="reviewer-1")

    made = session.get_one(EnforcementAction, outcome.summary["action_id"])
    assert made.statement is not None
    text = made.statement["text"]
    assert ("A person on our review team" in text) or ("rozhodol človek" in text)
    assert "reviewer-1" not in text  # staff are not named
    assert made.statement["appeal_reference"] == f"BG-{made.id}"


def test_a_statement_says_when_its_action_was_lifted_on_appeal(
    session: Session, scorer: Scorer, tmp_path: Path
) -> None:
    accounts = messaging_accounts(150)
    for account in accounts:
        account["language"] = "sk-SK"
    batch = scored(session, scorer, accounts)
    apply(session, scorer, batch.request)
    ban = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.action == "ban", EnforcementAction.status == "active"
        )
    ).first()
    assert ban is not None
    assert ban.statement is not None
    given = dict(ban.statement)
    sink = JsonlSink(tmp_path / "actions.jsonl")
    deliver_actions(
        session, DeliverActions(action_ids=[ban.id]), sink=sink, max_attempts=8, now=utcnow()
    )
    lifted_at = dt.datetime(2026, 12, 7, 18, 5, tzinfo=dt.UTC)
    outcome = decide_appeal(
        session,
        ban.id,
        outcome="overturn",
        actor=person(session, "agent-9", "reviewer"),
        reason="a family shop",
        neighbours=MemoryNeighbourStore(),
        now=lifted_at,
    )
    lift_message = next(
        f.message for f in outcome.follow_ups if isinstance(f.message, DeliverActions)
    )
    deliver_actions(session, lift_message, sink=sink, max_attempts=8, now=lifted_at)
    session.flush()
    session.expire_all()

    # Kept: the note on top, in the statement's language, then the statement as first given.
    kept = session.get_one(EnforcementAction, ban.id).statement
    assert kept is not None
    assert kept["lifted_at"] == lifted_at.isoformat()
    assert kept["language"] == given["language"] == "sk"
    assert kept["appeal_reference"] == given["appeal_reference"]
    assert kept["text"].startswith(
        "ZRUŠENÉ NA ZÁKLADE ODVOLANIA\nDňa 7. decembra 2026, 18:05 UTC sme na základe odvolania "
        "toto zablokovanie zrušili"
    )
    assert kept["text"].endswith(given["text"])
    # The lift the platform is sent carries it; the action's own item keeps what it was given.
    lift = next(iter(session.scalars(select(Delivery).where(Delivery.kind == PLATFORM_LIFT))))
    assert lift.item is not None
    assert lift.item["statement_of_reasons"] == kept
    action_item = session.scalars(
        select(Delivery).where(Delivery.kind == PLATFORM_ACTION, Delivery.ref_id == ban.id)
    ).one()
    assert action_item.item is not None
    assert action_item.item["statement_of_reasons"] == given
