"""Enforcement an operator runs, through real workers: deliveries to a Redis Stream and to a
signed webhook on loopback, a failed lift the workers send again through the webhook it failed
on, a review decided by a person, an overturn that reaches the platform and lowers the
neighbourhood rate, a restriction's expiry, the ban-storm breaker and delayed release."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner
from msgspec.structs import replace
from sqlalchemy import select, update

from infra.db.models import (
    Account,
    AccountDecision,
    Appeal,
    AuditEvent,
    DeadLetter,
    Delivery,
    EnforcementAction,
    Label,
    utcnow,
)
from infra.db.session import session_scope
from infra.redis_client import get_redis
from infra.settings import get_settings
from tasks.accounts.signals import AccountSignals, DetectionPoint, parse_record
from tasks.enforcement.policy import parse
from tasks.enforcement.policy_file import DEFAULT_POLICY
from tasks.neighbourhoods.redis_store import RedisNeighbourStore
from tests.integration.waiting import count
from tests.people import cli_env, service, signed
from tests.platform_receiver import SECRET, Receiver
from tests.records import messaging_accounts
from tests.seed import enforced
from workers.cli.main import main

QUEUES = {"scoring": 1, "enforcement": 1, "evidence": 1, "legal": 1, "maintenance": 1}
STREAM = "bulkguard:platform-actions"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def score(workers: Any, accounts: list[dict[str, Any]]) -> None:
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": accounts}
    )
    ids = [a["account_id"] for a in accounts]
    workers.wait_for(
        lambda: count(AccountDecision, AccountDecision.account_id.in_(ids)) == len(ids),
        what="the batch scored",
    )


def actions(*where: Any) -> list[EnforcementAction]:
    with session_scope() as session:
        return list(session.scalars(select(EnforcementAction).where(*where)))


def in_force() -> list[EnforcementAction]:
    return actions(
        EnforcementAction.status == "active", EnforcementAction.action.in_(("ban", "restrict"))
    )


def read_stream(seen: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Read what is new on the stream as a platform consumer does, and acknowledge it."""
    client = get_redis()
    answer: Any = client.xreadgroup("platform", "consumer-1", {STREAM: ">"}, count=10_000)
    for _stream, entries in answer:
        for entry_id, fields in entries:
            item = orjson.loads(fields[b"item"])
            assert fields[b"key"].decode() == item["idempotency_key"]
            seen.setdefault(item["idempotency_key"], item)
            client.xack(STREAM, "platform", entry_id)
    return seen


def ban_rates(store: RedisNeighbourStore, record: AccountSignals) -> list[float]:
    """The block, network and device ban rates a neighbour of ``record`` is scored with."""
    row = store.lookup([record])[0]
    return [float(row[0]), float(row[2]), float(row[4])]


def test_actions_and_lifts_reach_the_platform_stream(start, active_model):
    workers = start(QUEUES, extra_env={"BULKGUARD_PLATFORM_SINK": f"stream:{STREAM}"})
    client = get_redis()
    client.xgroup_create(STREAM, "platform", id="0", mkstream=True)
    accounts = messaging_accounts(200)
    records = {a["account_id"]: parse_record(a, AccountSignals, now=utcnow()) for a in accounts}
    # Each account registered beside a neighbour on its block, network and device: the
    # neighbour's ban rates show the account's ban counted, then forgotten.
    store = RedisNeighbourStore(client)
    neighbours = {
        account_id: replace(r, account_id=f"n-{account_id}") for account_id, r in records.items()
    }
    store.observe([*records.values(), *neighbours.values()], DetectionPoint.REGISTRATION)

    score(workers, accounts)
    workers.wait_for(
        lambda: count(Delivery, Delivery.status == "delivered") == len(in_force()) > 0,
        what="every action in force delivered",
    )
    seen = read_stream({})
    assert set(seen) == {f"action-{a.id}" for a in in_force()}
    ban = next(a for a in in_force() if a.action == "ban")
    assert seen[f"action-{ban.id}"]["event"] == "ban"
    assert seen[f"action-{ban.id}"]["account_id"] == ban.account_id
    workers.wait_for(
        lambda: min(ban_rates(store, neighbours[ban.account_id])) > 0,
        what="the ban counted in its neighbourhoods",
    )
    before = ban_rates(store, neighbours[ban.account_id])

    # An overturn on appeal reaches the platform and leaves the neighbourhood rates.
    appealed = CliRunner().invoke(
        main,
        ["appeal", str(ban.id), "--outcome", "overturn", "--reason", "verified", "--as", "agent-7"],
        env=cli_env("agent-7", "reviewer"),
    )
    assert appealed.exit_code == 0, appealed.output
    assert "account active" in appealed.output
    after = ban_rates(store, neighbours[ban.account_id])
    # Lower by this ban's share (abusers share networks and devices: others may stay).
    assert all(a < b for a, b in zip(after, before, strict=True)), (before, after)
    workers.wait_for(lambda: f"lift-{ban.id}" in read_stream(seen), what="the lift delivered")
    assert seen[f"lift-{ban.id}"]["event"] == "lift"

    # A review tool decides two cases, signed: a ban and a restriction, delivered like any action.
    tool = service("review-tool", "reviewer")

    def by_tool(task: str, **kwargs: object) -> dict[str, object]:
        return signed(tool, task, {"decided_by": "review-tool", **kwargs})

    first, second = actions(EnforcementAction.status == "pending")[:2]
    for review, outcome in ((first, "ban"), (second, "restrict")):
        workers.app.send_task(
            "enforcement.decide_review",
            kwargs=by_tool(
                "enforcement.decide_review",
                review_id=review.id,
                outcome=outcome,
                note="machine-regular timing",
            ),
        )
    workers.wait_for(
        lambda: len(actions(EnforcementAction.origin_id.is_not(None))) == 2,
        what="both decisions enforced",
    )
    decided = {a.origin_id: a for a in actions(EnforcementAction.origin_id.is_not(None))}
    assert (decided[first.id].action, decided[second.id].action) == ("ban", "restrict")
    workers.wait_for(
        lambda: {f"action-{a.id}" for a in decided.values()} <= set(read_stream(seen)),
        what="the people's decisions delivered",
    )
    restriction = decided[second.id]
    assert seen[f"action-{restriction.id}"]["expires_at"] is not None
    assert count(Label, Label.source == "review") == 2

    # What cannot be decided, or is not signed by a service that may decide it, is kept with
    # its reason; nothing changes and the workers go on.
    appeal, review_task = "enforcement.appeal", "enforcement.decide_review"
    tampered = by_tool(appeal, action_id=restriction.id, outcome="uphold", reason="x")
    crawler = service("crawler", "counsel")
    refused = [
        (appeal, by_tool(appeal, action_id=999_999, outcome="overturn", reason="x")),
        (appeal, by_tool(appeal, action_id=first.id, outcome="overturn", reason="x")),
        (review_task, by_tool(review_task, review_id=ban.id, outcome="ban", note="")),
        (review_task, by_tool(review_task, review_id=second.id, outcome="delete", note="")),
        (
            appeal,
            {
                "action_id": restriction.id,
                "outcome": "overturn",
                "decided_by": "someone-via-flower",
                "reason": "x",
                "signature": "AAAA",
            },
        ),
        (appeal, {**tampered, "outcome": "overturn"}),
        (
            appeal,
            signed(
                crawler,
                appeal,
                {
                    "action_id": restriction.id,
                    "outcome": "overturn",
                    "decided_by": "crawler",
                    "reason": "x",
                },
            ),
        ),
    ]
    for name, kwargs in refused:
        workers.app.send_task(name, kwargs=kwargs)
    workers.wait_for(lambda: count(DeadLetter) == len(refused), what="refusals kept")
    with session_scope() as session:
        reasons = sorted(session.scalars(select(DeadLetter.reason)))
    assert any("no enforcement action 999999" in r for r in reasons)
    assert any(f"action {first.id} is a decided review" in r for r in reasons)
    assert any(f"no review case {ban.id}" in r for r in reasons)
    assert any("outcome" in r and "invalid payload" in r for r in reasons)
    assert any("not signed by an enabled service named 'someone-via-flower'" in r for r in reasons)
    assert any("not signed by an enabled service named 'review-tool'" in r for r in reasons)
    assert any("crawler does not hold the reviewer role" in r for r in reasons)
    # The forged, tampered and unauthorised appeals against the restriction changed nothing.
    assert [a.id for a in actions(EnforcementAction.status == "reversed")] == [ban.id]
    assert count(Appeal) == 1

    # The restriction's term ends: beat's expiry lifts it and tells the platform.
    with session_scope() as session:
        session.execute(
            update(EnforcementAction)
            .where(EnforcementAction.id == restriction.id)
            .values(expires_at=restriction.created_at)
        )
    workers.app.send_task("enforcement.expire")
    workers.wait_for(lambda: f"lift-{restriction.id}" in read_stream(seen), what="expiry lifted")
    with session_scope() as session:
        assert session.get_one(Account, restriction.account_id).status == "active"
        assert session.get_one(EnforcementAction, restriction.id).status == "expired"


@SQLITE_ONLY
def test_a_signed_webhook_is_retried_and_a_replay_refused(start, active_model, receiver: Receiver):
    receiver.unavailable = 4  # the first attempt's three tries fail, and the sweep's first
    workers = start(
        QUEUES,
        extra_env={
            "BULKGUARD_PLATFORM_SINK": receiver.url,
            "BULKGUARD_PLATFORM_WEBHOOK_SECRET": SECRET,
            "BULKGUARD_DELIVERY_RETRY_SECONDS": "1",
        },
    )
    score(workers, messaging_accounts(150))
    workers.wait_for(lambda: len(in_force()) > 0, what="actions in force")
    deadline = time.monotonic() + 60
    while count(Delivery, Delivery.status == "delivered") < len(in_force()):
        assert time.monotonic() < deadline, workers.logs()
        workers.app.send_task("maintenance.sweep_outbox")  # what beat sends
        time.sleep(1.5)
    assert sorted(receiver.applied) == sorted(f"action-{a.id}" for a in in_force())
    with session_scope() as session:
        attempts = set(session.scalars(select(Delivery.attempts)))
    assert max(attempts) >= 2, "the unavailable receiver made the sweep try again"

    # A captured request played again: within the tolerance it changes nothing (idempotency),
    # after it the signature's timestamp is refused.
    captured = receiver.requests[-1]
    headers = {k: v for k, v in captured.headers.items() if k.startswith(("x-bulkguard", "idem"))}
    headers["content-type"] = "application/json"
    again = httpx.post(receiver.url, content=captured.body, headers=headers)
    assert again.status_code == 200
    assert again.json() == {"applied": 0}
    receiver.clock_offset = 600
    late = httpx.post(receiver.url, content=captured.body, headers=headers)
    assert late.status_code == 401
    forged = httpx.post(
        receiver.url, content=captured.body.replace(b"ban", b"lift"), headers=headers
    )
    assert forged.status_code == 401


@SQLITE_ONLY
def test_a_failed_lift_is_retried_by_the_workers_through_the_webhook_it_failed_on(
    start, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    workers = start(
        {"enforcement": 1},
        extra_env={
            "BULKGUARD_PLATFORM_SINK": receiver.url,
            "BULKGUARD_PLATFORM_WEBHOOK_SECRET": SECRET,
        },
    )
    webhook = f"webhook:{receiver.url}"
    (ban,) = enforced("banned", [("ban", "active")])
    workers.app.send_task("enforcement.deliver", kwargs={"action_ids": [ban]})
    workers.wait_for(
        lambda: count(Delivery, Delivery.status == "delivered") == 1, what="the ban delivered"
    )

    # The platform refuses the lift of the overturned ban: it fails for good, kept for an operator.
    receiver.refused = {f"lift-{ban}"}
    appealed = CliRunner().invoke(
        main,
        ["appeal", str(ban), "--outcome", "overturn", "--reason", "ok", "--as", "agent-7"],
        env=cli_env("agent-7", "reviewer"),
    )
    assert appealed.exit_code == 0, appealed.output
    lift = (Delivery.kind == "platform_lift") & (Delivery.ref_id == ban)
    workers.wait_for(lambda: count(Delivery, lift, Delivery.status == "failed") == 1, what="failed")

    # The platform fixed its side; the operator's shell sends to a file of its own, and must not.
    receiver.refused.clear()
    shell_sink = tmp_path / "operator-shell.jsonl"
    monkeypatch.setenv("BULKGUARD_PLATFORM_SINK", str(shell_sink))
    get_settings.cache_clear()
    with session_scope() as session:
        row = session.scalars(select(Delivery).where(lift)).one()
    retried = CliRunner().invoke(
        main,
        ["deliveries", "retry", "--id", str(row.id), "--as", "oncall"],
        env=cli_env("oncall", "admin"),
    )
    assert retried.exit_code == 0, retried.output
    workers.wait_for(
        lambda: count(Delivery, lift, Delivery.status == "delivered") == 1,
        what="the lift delivered by the worker",
    )
    assert receiver.applied == [f"action-{ban}", f"lift-{ban}"]
    assert not shell_sink.exists()
    with session_scope() as session:
        delivered = session.scalars(select(Delivery).where(lift)).one()
        events = session.scalars(
            select(AuditEvent.event).where(
                AuditEvent.entity == "delivery", AuditEvent.entity_id == row.id
            )
        ).all()
    assert (delivered.sink, delivered.attempts) == (webhook, 1)
    assert delivered.item == row.item  # the same item, under the same idempotency key
    assert events == ["retry_requested", "retry_taken"]


@SQLITE_ONLY
def test_a_flood_of_bans_trips_the_breaker_until_a_person_resets_it(start, active_model):
    workers = start(QUEUES, extra_env={"BULKGUARD_BREAKER_MIN_BANS": "5"})
    accounts = messaging_accounts(200)
    score(workers, accounts)
    workers.wait_for(
        lambda: count(EnforcementAction, EnforcementAction.rule.like("%:held")) > 5,
        what="bans held",
    )
    assert actions(EnforcementAction.action == "ban") == []
    status = CliRunner().invoke(main, ["breaker", "status", "--json"])
    assert status.exit_code == 0, status.output
    state = json.loads(status.output)
    assert state["open"] is True
    assert state["reason"].startswith("ban storm")

    reset = CliRunner().invoke(
        main,
        ["breaker", "reset", "--note", "fixed", "--as", "oncall"],
        env=cli_env("oncall", "admin"),
    )
    assert reset.exit_code == 0, reset.output
    assert "breaker closed" in reset.output
    # Closed, one abuser scored again is banned as usual.
    held = actions(EnforcementAction.rule.like("%:held"))[0]
    (again,) = [a for a in accounts if a["account_id"] == held.account_id]
    observed = dt.datetime.fromisoformat(again["observed_at"]) + dt.timedelta(minutes=1)
    again = {**again, "observed_at": observed.isoformat()}
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": [again]}
    )
    workers.wait_for(
        lambda: len(actions(EnforcementAction.action == "ban")) == 1, what="a ban after reset"
    )


@SQLITE_ONLY
def test_actions_are_released_when_due(start, active_model):
    workers = start(
        QUEUES,
        extra_env={
            "BULKGUARD_RELEASE_DELAY_MIN_SECONDS": "1",
            "BULKGUARD_RELEASE_DELAY_MAX_SECONDS": "2",
        },
    )
    score(workers, messaging_accounts(150))
    workers.wait_for(
        lambda: count(EnforcementAction, EnforcementAction.status == "scheduled") > 0,
        what="actions scheduled",
    )
    scheduled = actions(EnforcementAction.status == "scheduled")
    assert in_force() == []
    assert count(Delivery) == 0
    time.sleep(2.5)
    workers.app.send_task("enforcement.release")  # what beat sends every 30 s
    workers.wait_for(
        lambda: count(Delivery, Delivery.status == "delivered") == len(scheduled),
        what="released and delivered",
    )
    assert {a.id for a in in_force()} == {a.id for a in scheduled}


def put(path: Path, text: str) -> None:
    """Replace the file by a rename, as a deployment does, dated a few seconds back (settled)."""
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    past = time.time() - 5
    os.utime(partial, (past, past))
    partial.replace(path)


@SQLITE_ONLY
def test_a_policy_changed_under_running_workers_applies_without_a_restart(
    start, active_model, tmp_path: Path
):
    shipped = DEFAULT_POLICY.read_text()
    version = parse(shipped, "shipped").version
    policy = tmp_path / "policy.toml"
    put(policy, shipped)
    workers = start(QUEUES, extra_env={"BULKGUARD_POLICY_FILE": str(policy)})
    score(workers, messaging_accounts(100))
    workers.wait_for(lambda: len(in_force()) > 0, what="actions under the first policy")
    assert {a.policy_version for a in actions()} == {version}

    # A cautious rollout: the ban band goes to people instead, under a new version.
    cautious = shipped.replace(f'version = "{version}"', 'version = "cautious-1"').replace(
        'bands = ["ban"]\naction = "ban"', 'bands = ["ban"]\naction = "review"'
    )
    assert cautious != shipped
    put(policy, cautious)
    time.sleep(2.5)  # workers look at the file every 2 s
    later = messaging_accounts(100, seed=9)
    score(workers, later)
    ids = [a["account_id"] for a in later]
    workers.wait_for(
        lambda: bool(actions(EnforcementAction.account_id.in_(ids))), what="actions under it"
    )
    under_new = actions(EnforcementAction.account_id.in_(ids))
    assert {a.policy_version for a in under_new} == {"cautious-1"}
    assert "ban" not in {a.action for a in under_new}

    # A broken change is refused and the policy in force stays.
    put(policy, "version = ")
    time.sleep(2.5)
    third = messaging_accounts(100, seed=10)
    score(workers, third)
    third_ids = [a["account_id"] for a in third]
    workers.wait_for(
        lambda: bool(actions(EnforcementAction.account_id.in_(third_ids))), what="third batch"
    )
    assert {a.policy_version for a in actions(EnforcementAction.account_id.in_(third_ids))} == {
        "cautious-1"
    }
    assert "enforcement policy change refused" in workers.logs()
