"""``bulkguard review``, ``bulkguard appeal`` and ``bulkguard policy``: people working the
enforcement queue, and the policy file they work under."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from sqlalchemy.orm import Session

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.redaction import redact
from infra.settings import get_settings
from tasks.outcome import Outcome

console = Console(stderr=True)


def _commit(work: Callable[[Session], Outcome], name: str) -> dict[str, Any]:
    """Run ``work`` as the tasks do (one transaction, effects and follow-ups after commit)."""
    from tasks import outbox
    from workers.celery_app import app

    committed = outbox.commit(app, work, task_name=name, task_id=None)
    if committed.publish_error is not None:
        console.print(
            f"the broker is unreachable ({type(committed.publish_error).__name__}); "
            "the outbox sweep sends the follow-ups later"
        )
    return committed.outcome.summary


def _neighbours() -> Any:
    from infra.redis_client import get_counters_redis
    from tasks.neighbourhoods.redis_store import RedisNeighbourStore

    return RedisNeighbourStore(get_counters_redis())


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
        "--outcome ban|restrict|dismiss --by NAME --note TEXT"
    )


@review.command("decide")
@click.argument("review_id", type=int)
@click.option("--outcome", type=click.Choice(["ban", "restrict", "dismiss"]), required=True)
@click.option("--by", "actor", required=True, help="Who decided (recorded).")
@click.option("--note", default="", help="Why (recorded).")
def review_decide(
    review_id: int, outcome: Literal["ban", "restrict", "dismiss"], actor: str, note: str
) -> None:
    """Decide a case: a ban or restriction is enforced like an automatic one; every decision
    is audited and kept as a label."""
    from tasks.enforcement.policy_file import policy_in_force
    from tasks.enforcement.reviews import ReviewError, decide_review

    policy = policy_in_force(get_settings().policy_file)
    try:
        summary = _commit(
            lambda session: decide_review(
                session,
                review_id,
                outcome=outcome,
                actor=actor,
                note=note,
                policy=policy,
                neighbours=_neighbours(),
                now=utcnow(),
            ),
            "cli.review.decide",
        )
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from exc
    made = summary.get("action_id")
    again = " (already decided so)" if summary.get("already_decided") else ""
    click.echo(
        f"review {review_id}: {outcome}{again}"
        + (f"; action {made} ({summary.get('action', outcome)}) in force" if made else "")
        + (f"; {summary['note']}" if summary.get("note") else "")
    )


@click.command()
@click.argument("action_id", type=int)
@click.option("--outcome", type=click.Choice(["uphold", "overturn"]), required=True)
@click.option("--by", "actor", required=True, help="Who decided (recorded).")
@click.option("--reason", required=True, help="Why (recorded).")
def appeal(action_id: int, outcome: Literal["uphold", "overturn"], actor: str, reason: str) -> None:
    """Decide an appeal against an action. An overturn lifts it on the platform, takes a ban
    out of the neighbourhood rates, withdraws it as evidence (legal re-evaluates) and labels
    the account not abusive; an uphold is recorded and labelled."""
    from tasks.enforcement.appeals import AppealError, decide_appeal

    try:
        summary = _commit(
            lambda session: decide_appeal(
                session,
                action_id,
                outcome=outcome,
                actor=actor,
                reason=reason,
                neighbours=_neighbours(),
                now=utcnow(),
            ),
            "cli.appeal",
        )
    except AppealError as exc:
        raise click.ClickException(str(exc)) from exc
    again = " (already decided so)" if summary["already_decided"] else ""
    click.echo(
        f"action {summary['action_id']} of {summary['account_id']}: {outcome}{again}; "
        f"account {summary['account_status']}"
    )
    if summary["companies"]:
        click.echo(f"companies {summary['companies']} handed to legal for re-evaluation")


@click.group()
def policy() -> None:
    """The enforcement policy file."""


@policy.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def policy_check(path: Path) -> None:
    """Validate a policy file before rolling it out; print its rules."""
    from tasks.enforcement.policy import PolicyError, parse

    try:
        checked = parse(path.read_text(encoding="utf-8"), str(path))
    except (PolicyError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    _print_policy(checked)


@policy.command("show")
def policy_show() -> None:
    """The policy the workers apply (BULKGUARD_POLICY_FILE, or the shipped default)."""
    from tasks.enforcement.policy import PolicyError
    from tasks.enforcement.policy_file import DEFAULT_POLICY, policy_in_force

    path = get_settings().policy_file
    try:
        shown = policy_in_force(path)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"# {path or DEFAULT_POLICY}")
    _print_policy(shown)


def _print_policy(shown: Any) -> None:
    click.echo(f"policy {shown.version}")
    for rule in shown.rules:
        stages = ",".join(rule.stages) or "any stage"
        signals = f" with {'+'.join(rule.signals)}" if rule.signals else ""
        click.echo(
            f"  {rule.name}: {stages}, band {'|'.join(rule.bands)}{signals} -> {rule.action}"
        )
    ladder = ", ".join(f"{d}d" for d in shown.restrictions.ladder_days)
    click.echo(
        f"  restrictions: {ladder}, then ban (repeats within "
        f"{shown.restrictions.lookback_days} days)"
    )
    click.echo(f"  reviews dismissed after {shown.reviews.expire_after_days:g} days undecided")


@click.group()
def report() -> None:
    """Reports for operators."""


@report.command("shadow")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Scores recorded since (UTC); default: the last 7 days.",
)
@click.option("--sample", default=20, show_default=True, type=click.IntRange(0, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def report_shadow(since: dt.datetime | None, sample: int, as_json: bool) -> None:
    """Shadow against live decisions on the same records: counts by decision, and the accounts
    the two models decided differently on."""
    from rich.table import Table

    from tasks.enforcement.shadow_report import compare

    start = since.replace(tzinfo=dt.UTC) if since else utcnow() - dt.timedelta(days=7)
    with session_scope() as session:
        found = compare(session, since=start, sample=sample).as_json()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    out = Console()
    if not found["compared"]:
        out.print(
            f"no record scored by both a live and a shadow model since {start:%Y-%m-%d %H:%M}"
        )
    else:
        versions = ", ".join(f"{v['role']} {v['version']}" for v in found["versions"])
        table = Table(title=f"live vs shadow since {start:%Y-%m-%d %H:%M} ({versions})")
        for column in ("live", "shadow", "accounts"):
            table.add_column(column, justify="right" if column == "accounts" else "left")
        for pair in found["pairs"]:
            table.add_row(pair["live"], pair["shadow"], str(pair["accounts"]))
        out.print(table)
        out.print(f"agreed on {found['agreed']} of {found['compared']}")
        for row in found["differing"]:
            out.print(
                f"  {row['account_id']} {row['stage']} {row['observed_at'][:16]}: "
                f"live {row['live']['decision']} ({row['live']['score']}) vs "
                f"shadow {row['shadow']['decision']} ({row['shadow']['score']})"
            )
    if found["shadow_actions"]:
        out.print(f"actions recorded in shadow mode: {found['shadow_actions']}")


@click.group()
def breaker() -> None:
    """The ban-storm breaker: automatic bans held for review while it is open."""


def _limits() -> Any:
    from tasks.enforcement.safeguards import from_settings

    return from_settings(get_settings()).breaker


@breaker.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
def breaker_status(as_json: bool) -> None:
    """Open or closed, why, and the ban rate against its baseline."""
    from tasks.enforcement.breaker import status

    limits = _limits()
    with session_scope() as session:
        state = status(session, limits, utcnow())
    shown = {
        "open": state.open,
        "reason": state.reason,
        "changed_at": state.changed_at.isoformat() if state.changed_at else None,
        "changed_by": state.changed_by,
        "window_minutes": int(limits.window.total_seconds() // 60),
        "window_bans": state.window_bans,
        "expected_bans": round(state.expected_bans, 1),
        "limit": round(max(limits.min_bans, limits.multiple * state.expected_bans)),
    }
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    click.echo(
        f"breaker {'OPEN' if state.open else 'closed'}; {shown['window_bans']} automatic bans "
        f"in the last {shown['window_minutes']} min, {shown['expected_bans']} expected, "
        f"limit {shown['limit']}"
    )
    if state.reason:
        click.echo(f"last change {shown['changed_at']} by {state.changed_by}: {state.reason}")


@breaker.command("reset")
@click.option("--by", "actor", required=True, help="Who resets it (recorded).")
@click.option("--note", default="", help="Why (recorded).")
def breaker_reset(actor: str, note: str) -> None:
    """Close the breaker: automatic bans go ahead again (a storm that goes on trips it again)."""
    from tasks.enforcement.breaker import reset

    with session_scope() as session:
        was_open = reset(session, actor=actor, note=note, now=utcnow())
    click.echo("breaker closed" if was_open else "breaker was not open: nothing to reset")
