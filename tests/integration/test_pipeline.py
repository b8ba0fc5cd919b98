"""The four stages end to end through real workers, a real Redis and real databases."""

from __future__ import annotations

from collections import Counter
from email import message_from_bytes
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from infra.db.models import (
    Account,
    AccountCompanyLink,
    AccountDecision,
    CompanyIndicator,
    DecisionBatch,
    Delivery,
    EnforcementAction,
    EvidenceLink,
    LegalNotice,
    OutboxMessage,
    Score,
    SignalSnapshot,
)
from infra.db.session import session_scope
from infra.redis_client import get_redis
from infra.settings import get_settings
from tasks.neighbourhoods import redis_store
from tasks.offline.simulate_accounts import simulate
from tasks.offline.simulate_documents import documents
from tasks.scoring.model import ACTIONED
from tests.integration.waiting import count
from tests.people import cli_env
from workers.cli.main import main


def _send_population(app: Any, records: list[dict[str, Any]], batch: int = 200) -> None:
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_stage.setdefault(record["stage"], []).append(record)
    for stage, items in by_stage.items():
        for start in range(0, len(items), batch):
            app.send_task(
                "scoring.score_accounts",
                kwargs={"stage": stage, "accounts": items[start : start + batch]},
            )


# Each database on Redis, and the pipeline once more on RabbitMQ.
BROKERS_AND_DATABASES = pytest.mark.parametrize(
    ("broker_url", "database_url"),
    [("redis", "sqlite"), ("redis", "postgresql"), ("rabbitmq", "sqlite")],
    indirect=True,
)


@BROKERS_AND_DATABASES
def test_population_flows_through_all_four_stages(start, active_model):
    workers = start()
    records = list(simulate(1200, seed=11))
    ids = [r["account_id"] for r in records]
    _send_population(workers.app, records)
    workers.app.send_task("evidence.ingest", kwargs={"documents": documents(1200, seed=11)})
    counts = workers.drain(ids, active_model)

    assert counts["accounts"] == counts["scored"] == len(records)
    assert counts["dead_letters"] == 0, workers.logs()
    assert counts["banned"] > 0
    # Bans feed the neighbourhood ban rates in Redis once committed.
    assert any(get_redis().scan_iter(match=f"{redis_store.PREFIX}:{{device:*}}:ban", count=1000))
    with session_scope() as session:
        # Each account appears once, so every actionable decision became exactly one action.
        actionable = session.scalar(
            select(func.count()).select_from(Score).where(Score.decision.in_(ACTIONED))
        )
        assert counts["banned"] + counts["restricted"] + counts["review"] == actionable
        # Every ban carries its explanation and provenance.
        bans = session.scalars(
            select(EnforcementAction).where(EnforcementAction.action == "ban")
        ).all()
        assert all(b.reasons and b.model_version == active_model and b.policy_version for b in bans)
        banned_status = Counter(
            session.scalars(
                select(Account.status).where(Account.account_id.in_([b.account_id for b in bans]))
            )
        )
        assert banned_status == {"banned": len(bans)}
        assert (
            session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.kind == "platform_action")
            )
            == counts["banned"] + counts["restricted"]
        )
        assert (session.scalar(select(func.count()).select_from(EvidenceLink)) or 0) > 0
        assert (session.scalar(select(func.count()).select_from(AccountCompanyLink)) or 0) > 0
        notices = session.scalars(select(LegalNotice)).all()
        assert notices
        assert {n.status for n in notices} == {"pending_review"}
        assert all(n.cited_evidence and "SHA-256" in n.body for n in notices)
        # Sent by e-mail, so the notice picked has an address to go to.
        notice_id = next(
            n.id
            for n in notices
            if session.scalar(
                select(CompanyIndicator.id).where(
                    CompanyIndicator.company_id == n.company_id, CompanyIndicator.kind == "email"
                )
            )
        )

    # Nothing is sent until a person approves; then the legal worker sends it once.
    sandbox = get_settings().mail_sandbox_path
    assert not sandbox.exists()
    with session_scope() as session:
        read = session.get_one(LegalNotice, notice_id).body_sha256
    approved = CliRunner().invoke(
        main,
        [
            "legal", "approve", str(notice_id), "--sha256", read, "--note", "reviewed",
            "--as", "counsel@example.org",
        ],
        env=cli_env("counsel@example.org", "counsel"),
    )  # fmt: skip
    assert approved.exit_code == 0, approved.output
    assert "sending queued for the legal workers" in approved.output
    workers.wait_for(
        lambda: count(LegalNotice, LegalNotice.status == "sent") == 1, what="notice sent"
    )
    (mail,) = sandbox.glob("*.eml")
    with session_scope() as session:
        reference = session.get_one(LegalNotice, notice_id).reference
    assert message_from_bytes(mail.read_bytes())["X-Notice-Reference"] == reference
    assert workers.alive()


def _effects() -> dict[str, int]:
    return {
        model.__tablename__: count(model)
        for model in (
            AccountDecision,
            DecisionBatch,
            Score,
            SignalSnapshot,
            EnforcementAction,
            OutboxMessage,
            Delivery,
        )
    }


def test_same_scoring_payload_twice_leaves_one_set_of_effects(start, active_model):
    workers = start()
    records = [r for r in simulate(300, seed=5) if r["stage"] == "messaging"]
    payload = {"stage": "messaging", "accounts": records}
    ids = [r["account_id"] for r in records]

    workers.app.send_task("scoring.score_accounts", kwargs=payload)
    first = workers.drain(ids, active_model)
    before = _effects()
    assert before["enforcement_actions"] > 0
    assert before["account_decisions"] == len(records)
    assert before["decision_batches"] == 1

    workers.app.send_task("scoring.score_accounts", kwargs=payload)
    second = workers.drain(ids, active_model)
    assert _effects() == before
    assert second == first
