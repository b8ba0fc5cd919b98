"""``bulkguard appeals``: the appeals account holders filed (through the platform's appeal
service) that wait for a reviewer. ``bulkguard appeal ACTION_ID`` decides one."""

from __future__ import annotations

import json
from typing import Any

import click

from infra.db.session import session_scope
from infra.redaction import redact

# How much of a statement a line shows; the console and ``--json`` show it whole.
EXCERPT = 60


@click.group()
def appeals() -> None:
    """Appeals waiting for a reviewer."""


@appeals.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per appeal.")
def list_appeals(limit: int, as_json: bool) -> None:
    """The appeals no one has decided, oldest first: when and by whom each was filed, the
    action and account it is against, and the appellant's statement. Phone numbers and e-mail
    addresses are masked."""
    from tasks.enforcement.appeal_requests import waiting

    with session_scope() as session:
        shown: list[dict[str, Any]] = [
            {
                "request_id": w.request.id,
                "filed_at": w.request.filed_at.isoformat(),
                "filed_by": w.request.filed_by,
                "action_id": w.action.id,
                "action": w.action.action,
                "action_status": w.action.status,
                "account_id": w.account.account_id,
                "account_status": w.account.status,
                "statement": w.request.statement,
            }
            for w in waiting(session, limit=limit)
        ]
    if not shown:
        click.echo("no appeals waiting", err=True)
        return
    for appeal in shown:
        if as_json:
            click.echo(redact(json.dumps(appeal, ensure_ascii=False)))
            continue
        statement = " ".join(appeal["statement"].split())
        if len(statement) > EXCERPT:
            statement = statement[: EXCERPT - 1] + "…"
        click.echo(
            redact(
                f"{appeal['request_id']}\t{appeal['filed_at'][:16]}\taction {appeal['action_id']} "
                f"({appeal['action_status']} {appeal['action']})\t{appeal['account_id']} "
                f"({appeal['account_status']})\t{appeal['filed_by']}\t{statement}"
            )
        )
    click.echo(
        "decide: bulkguard appeal ACTION_ID --outcome uphold|overturn --reason TEXT --as NAME, "
        "or in the console's Appeals",
        err=True,
    )
