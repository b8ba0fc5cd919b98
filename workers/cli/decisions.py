"""``bulkguard decisions ACCOUNT_ID``: every decision any model made on one account, allow
included, read through the per-account index of the compact decision store."""

from __future__ import annotations

import json

import click

from infra.db.session import session_scope


@click.command("decisions")
@click.argument("account_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per decision.")
def decisions(account_id: str, as_json: bool) -> None:
    """Every decision on ACCOUNT_ID, oldest batch first: when its batch arrived, the stage, the
    model version (and whether it was a shadow), the score and the decision."""
    # The scoring package loads XGBoost (a second of start-up): only this command needs it.
    from tasks.scoring.decisions import decisions_of

    with session_scope() as session:
        found = decisions_of(session, account_id)
    if not found:
        raise click.ClickException(f"no decision on account {account_id!r}")
    for d in found:
        if as_json:
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
                    }
                )
            )
        else:
            role = "shadow" if d.shadow else "acting"
            click.echo(
                f"{d.received_at:%Y-%m-%d %H:%M:%S}\t{d.stage}\t{d.model_version} ({role})\t"
                f"{d.score:.4f}\t{d.decision}\tsnapshot {d.snapshot_id}"
            )
