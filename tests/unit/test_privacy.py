"""Task messages bulkguard publishes describe their arguments without their values."""

from __future__ import annotations

from workers.privacy import ValueFreeAMQP, describe

PHONE = "+421986355464"


def test_messages_carry_value_free_argument_reprs() -> None:
    from workers.celery_app import app

    assert isinstance(app.amqp, ValueFreeAMQP)
    batch = {"stage": "registration", "accounts": [{"phone": PHONE, "publisher": "Acme"}] * 3}
    message = app.amqp.create_task_message(
        "t-1", "scoring.score_accounts", (), batch, create_sent_event=True
    )
    shown = f"{message.headers} {message.sent_event}"
    assert PHONE not in shown
    assert "Acme" not in shown
    assert message.headers["kwargsrepr"] == "{'stage': <str>, 'accounts': <3 items>}"
    assert message.sent_event["kwargs"] == message.headers["kwargsrepr"]
    assert message.headers["argsrepr"] == "()"
    # An explicit repr from the caller is kept.
    explicit = app.amqp.create_task_message(
        "t-2", "scoring.score_accounts", (), batch, kwargsrepr="(a batch)"
    )
    assert explicit.headers["kwargsrepr"] == "(a batch)"


def test_describe_gives_shapes_not_values() -> None:
    assert describe({"notice_id": 7, "force": True, "note": None}) == (
        "{'notice_id': <int>, 'force': True, 'note': None}"
    )
    assert describe({"by_phone": {PHONE: 1}}) == "{'by_phone': {<key>: <int>}}"
    assert describe({"a": {"b": {"c": 1}}}) == "{'a': {'b': <1 keys>}}"
    assert describe(("x", [1, 2])) == "<2 items>"
