"""``bulkguard decisions ACCOUNT_ID``: every decision any model made on one account, allow
included, read through the per-account index of the compact decision store."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from infra.db.session import session_scope

if TYPE_CHECKING:
    from tasks.enforcement.explained import Explained


@click.command("decisions")
@click.argument("account_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per decision.")
def decisions(account_id: str, as_json: bool) -> None:
    """Every decision on ACCOUNT_ID, oldest batch first: when its batch arrived, the stage, the
    model version (and whether it was a shadow), the score and the decision; under each
    actioned one, the action it led to, the policy rule that chose it and the reasons (feature
    contributions, log-odds); then each ban and restriction with the statement of reasons the
    account holder was given."""
    # The scoring package loads XGBoost (a second of start-up): only this command needs it.
    from tasks.enforcement.explained import explained_actions
    from tasks.enforcement.statements import of_account
    from tasks.scoring.decisions import decisions_of

    with session_scope() as session:
        found = decisions_of(session, account_id)
        actions = explained_actions(session, account_id)
        stated = [(a.id, a.action, a.status, a.statement) for a in of_account(session, account_id)]
    if not found:
        raise click.ClickException(f"no decision on account {account_id!r}")
    statements = {action_id: statement for action_id, _, _, statement in stated}
    for d in found:
        action = actions.get((d.snapshot_id, d.model_version))
        if as_json:
            shown = None
            if action is not None:
                # In JSON, a decision's action carries its statement; the rest follow below.
                shown = {
                    **action.as_json(),
                    "statement_of_reasons": statements.get(action.action_id),
                }
                stated = [s for s in stated if s[0] != action.action_id]
            click.echo(
                json.dumps(
                    {
                        "snapshot_id": d.snapshot_id,
                        "received_at": d.received_at.isoformat(),
                        "stage": d.stage,
                        "model_version": d.model_version,
                        "shadow": d.shadow,
                        "score": round(d.score, 6),
                        "decision": d.decision,
                        "action": shown,
                    }
                )
            )
            continue
        role = "shadow" if d.shadow else "acting"
        click.echo(
            f"{d.received_at:%Y-%m-%d %H:%M:%S}\t{d.stage}\t{d.model_version} ({role})\t"
            f"{d.score:.4f}\t{d.decision}\tsnapshot {d.snapshot_id}"
        )
        for line in _explanation(d.decision, d.shadow, action):
            click.echo(f"  {line}")
    _statements(stated, as_json)


def _explanation(decision: str, shadow: bool, action: Explained | None) -> list[str]:
    """The lines under an actioned decision: its action, rule and reasons."""
    if decision == "allow" or shadow:
        return []  # nothing was done, so there is nothing to explain
    if action is None:
        return ["no action yet: enforcement has not applied this decision"]
    lines = [
        f"action {action.action_id}: {action.action} ({action.status}), rule {action.rule}, "
        f"policy {action.policy_version}"
    ]
    lines += [f"+ {r['feature']} = {r['value']} ({r['contribution']:+.3f})" for r in action.reasons]
    return lines


def _statements(stated: list[tuple[int, str, str, dict[str, str] | None]], as_json: bool) -> None:
    """Each action's statement of reasons, as the platform received it (in JSON, those of
    actions no listed decision led to: a reviewer's, for one)."""
    for action_id, action, status, statement in stated:
        if as_json:
            click.echo(
                json.dumps(
                    {"action_id": action_id, "action": action, "statement_of_reasons": statement}
                )
            )
            continue
        click.echo(f"\n{action} {action_id} ({status}): statement of reasons", nl=False)
        if statement is None:
            click.echo(": none (recorded before statements were written)")
        else:
            click.echo(f" in {statement['language']}\n{statement['text']}", nl=False)
