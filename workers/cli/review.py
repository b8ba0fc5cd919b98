"""``bulkguard review``: people working the enforcement queue, case by case."""

from __future__ import annotations

import json
from typing import Any, Literal

import click

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.redaction import redact
from infra.settings import get_settings
from infra.users import Actor
from workers.cli.acting import acting
from workers.cli.commit import commit_as_operator


@click.group()
def review() -> None:
    """The review queue: cases the policy left to a person."""


@review.command("next")
@click.option("--stage", type=click.Choice(["registration", "messaging", "feedback"]))
@click.option("--json", "as_json", is_flag=True, help="Print the case as JSON.")
def review_next(stage: str | None, as_json: bool) -> None:
    """Show the oldest pending case: its score, reasons, signals and the account's history.
    Phone numbers and e-mail addresses are masked."""
    from tasks.enforcement.reviews import next_case

    with session_scope() as session:
        case = next_case(session, stage=stage)
        if case is None:
            click.echo("no pending review cases" + (f" at the {stage} stage" if stage else ""))
            return
        shown: dict[str, Any] = {
            "review_id": case.review.id,
            "account_id": case.account.account_id,
            "account_status": case.account.status,
            "stage": case.score.stage,
            "score": round(case.score.score, 4),
            "model_version": case.score.model_version,
            "rule": case.review.rule,
            "waiting_since": case.review.created_at.isoformat(),
            "reasons": case.review.reasons or [],
            "signals": case.record,
            "history": [
                {
                    "action_id": a.id,
                    "action": a.action,
                    "status": a.status,
                    "at": a.created_at.isoformat(),
                    "by": a.actor,
                }
                for a in case.history
            ],
        }
    text = redact(json.dumps(shown, indent=2, ensure_ascii=False))
    if as_json:
        click.echo(text)
        return
    click.echo(
        f"review {shown['review_id']}: account {shown['account_id']} ({shown['account_status']}), "
        f"{shown['stage']} score {shown['score']} by {shown['model_version']}, "
        f"waiting since {shown['waiting_since'][:16]}"
    )
    for reason in shown["reasons"]:
        click.echo(f"  + {reason['feature']} = {reason['value']} ({reason['contribution']:+.3f})")
    for past in shown["history"]:
        click.echo(
            f"  history: {past['at'][:10]} {past['action']} {past['status']} by {past['by']}"
        )
    click.echo(redact(json.dumps({"signals": shown["signals"]}, ensure_ascii=False)))
    click.echo(
        f"decide: bulkguard review decide {shown['review_id']} "
        "--outcome ban|restrict|dismiss --note TEXT --as NAME"
    )


@review.command("decide")
@click.argument("review_id", type=int)
@click.option("--outcome", type=click.Choice(["ban", "restrict", "dismiss"]), required=True)
@click.option("--note", default="", help="Why (recorded).")
@acting("reviewer")
def review_decide(
    review_id: int, outcome: Literal["ban", "restrict", "dismiss"], note: str, actor: Actor
) -> None:
    """Decide a case: a ban or restriction is enforced like an automatic one; every decision
    is audited and kept as a label."""
    from tasks.enforcement.policy_file import policy_in_force
    from tasks.enforcement.reviews import ReviewError, decide_review
    from tasks.neighbourhoods.redis_store import workers_store

    policy = policy_in_force(get_settings().policy_file)
    summary = commit_as_operator(
        lambda session: decide_review(
            session,
            review_id,
            outcome=outcome,
            actor=actor,
            note=note,
            policy=policy,
            neighbours=workers_store(),
            now=utcnow(),
        ),
        recorded_as="cli.review.decide",
        refused=(ReviewError,),
    ).summary
    made = summary.get("action_id")
    again = " (already decided so)" if summary.get("already_decided") else ""
    click.echo(
        f"review {review_id}: {outcome}{again}"
        + (f"; action {made} ({summary.get('action', outcome)}) in force" if made else "")
        + (f"; {summary['note']}" if summary.get("note") else "")
    )
