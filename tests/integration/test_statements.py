"""Statements of reasons reach the platform with their actions: real scoring and enforcement
workers deliver to the platform's webhook receiver (``tests.platform_receiver``), which checks
each signed request as the contract tells the platform to."""

from __future__ import annotations

import time

from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import Account, Delivery, EnforcementAction
from infra.db.session import session_scope
from tests.integration.test_enforcement import QUEUES, SQLITE_ONLY, in_force, score
from tests.integration.waiting import count
from tests.platform_receiver import SECRET, Receiver
from tests.records import messaging_accounts
from workers.cli.main import main


@SQLITE_ONLY
def test_each_action_reaches_the_platform_with_its_statement(
    start, active_model, receiver: Receiver
):
    workers = start(
        QUEUES,
        extra_env={
            "BULKGUARD_PLATFORM_SINK": receiver.url,
            "BULKGUARD_PLATFORM_WEBHOOK_SECRET": SECRET,
            "BULKGUARD_DELIVERY_RETRY_SECONDS": "1",
        },
    )
    accounts = messaging_accounts(150, seed=11)
    for account in accounts[::2]:
        account["language"] = "sk"
    score(workers, accounts)
    workers.wait_for(lambda: len(in_force()) > 0, what="actions in force")
    deadline = time.monotonic() + 60
    while count(Delivery, Delivery.status == "delivered") < len(in_force()):
        assert time.monotonic() < deadline, workers.logs()
        workers.app.send_task("maintenance.sweep_outbox")  # what beat sends
        time.sleep(1.5)

    received = {item["action_id"]: item for item in receiver.items}
    with session_scope() as session:
        made = {
            a.id: a
            for a in session.scalars(
                select(EnforcementAction).where(EnforcementAction.id.in_(received))
            )
        }
        countries = dict(session.execute(select(Account.account_id, Account.country)).all())
    assert set(received) == {a.id for a in in_force()}
    languages = {a["account_id"]: a.get("language") for a in accounts}
    phones = [a["phone"] for a in accounts]
    for action_id, item in received.items():
        action = made[action_id]
        statement = item["statement_of_reasons"]
        assert statement == action.statement  # as kept with the action
        assert statement["appeal_reference"] == f"BG-{action_id}"
        expected = (
            "sk" if languages[action.account_id] or countries[action.account_id] == "SK" else "en"
        )
        assert statement["language"] == expected
        text = statement["text"]
        assert str(action.score) not in text
        assert f"{action.score:.4f}" not in text
        assert not [r["feature"] for r in action.reasons or [] if r["feature"] in text]
        assert not [a["account_id"] for a in accounts if a["account_id"] in text]
        assert not [p for p in phones if p in text]
    assert {i["statement_of_reasons"]["language"] for i in received.values()} == {"en", "sk"}

    # Shown by `bulkguard decisions`, as the platform received it.
    shown = made[min(made)]
    listed = CliRunner().invoke(main, ["decisions", shown.account_id])
    assert listed.exit_code == 0, listed.output
    assert (shown.statement or {})["text"] in listed.output
