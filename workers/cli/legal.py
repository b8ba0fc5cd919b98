"""``bulkguard legal``: notices for counsel to read, approve, reject, withdraw and close, and the
record of every evaluation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import LegalEvaluation, LegalNotice, utcnow
from infra.db.session import session_scope
from infra.users import Actor
from tasks.legal import notice_view
from tasks.outcome import Outcome
from workers.cli.acting import acting
from workers.cli.commit import commit_as_operator

# Who decides: a user holding counsel, checked here and again by the body
# (``tasks.legal.approvals``).
_by_counsel = acting("counsel")


@click.group()
def legal() -> None:
    """Legal notices and evaluations."""


@legal.command("list")
@click.option("--status", default=None, help="e.g. pending_review, approved, sent, escalated")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per notice.")
def legal_list(status: str | None, as_json: bool) -> None:
    """Notices, newest last; escalations name the notice they follow."""
    with session_scope() as session:
        query = select(LegalNotice).order_by(LegalNotice.id)
        if status:
            query = query.where(LegalNotice.status == status)
        rows = [notice_view.summary(n) for n in session.scalars(query)]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        follows = f"\tfollows={row['follows']}" if row["follows"] else ""
        click.echo(
            f"{row['id']}\t{row['reference']}\t{row['kind']}\tcompany={row['company_id']}\t"
            f"{row['status']}\trev={row['revision']}\t{row['basis']}\t{row['language']}\t"
            f"evidence={len(row['cited_evidence'])}{follows}"
        )


@legal.command("show")
@click.argument("notice_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def legal_show(notice_id: int, as_json: bool) -> None:
    """The notice's current text with its hash, the evidence it cites, what counsel should check
    (borderline dates) and its history."""
    with session_scope() as session:
        notice = session.get(LegalNotice, notice_id)
        if notice is None:
            raise click.ClickException(f"no legal notice {notice_id}")
        shown = notice_view.detail(session, notice)
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{shown['reference']}  {shown['status']}  revision {shown['revision']}  "
        f"SHA-256 {shown['sha256']}"
    )
    if shown["borderline"]:
        click.echo(
            f"CHECK: evidence {shown['borderline']} is dated within the policy's margin of the "
            "cut-off; confirm its date before approving"
        )
    click.echo("-" * 72)
    click.echo(shown["body"], nl=False)
    click.echo("-" * 72)
    for e in shown["evidence"]:
        check = "  CHECK DATE" if e["borderline"] else ""
        click.echo(
            f"E{e['id']}  {e['observed_at'][:19]}  {e['source']}/{e['kind']}  {e['url'] or ''}"
            f"{check}"
        )
        if e["excerpt"]:
            click.echo(f"    {e['excerpt']}")
    for h in shown["history"]:
        click.echo(f"{h['at'][:19]}  {h['status']}  {h['actor']}  {h['note']}")


@legal.command("approve")
@click.argument("notice_id", type=int)
@click.option(
    "--sha256",
    "read_sha256",
    required=True,
    help="The text's SHA-256 as `legal show` printed it (at least 8 digits): proof of what was "
    "read; refused if the text changed since.",
)
@click.option("--note", default="", help="Why, for the record.")
@_by_counsel
def legal_approve(notice_id: int, read_sha256: str, note: str, actor: Actor) -> None:
    """Approve the notice's current text; the legal workers then e-mail it."""
    from tasks.legal.approvals import approve

    outcome = _decide(
        lambda s: approve(
            s, notice_id, actor=actor, note=note, now=utcnow(), read_sha256=read_sha256
        )
    )
    click.echo(
        f"notice {notice_id} revision {outcome.summary['revision']} approved by {actor.name}; "
        "sending queued for the legal workers"
    )


@legal.command("reject")
@click.argument("notice_id", type=int)
@click.option("--reason", required=True, help="Why the notice must not be sent.")
@_by_counsel
def legal_reject(notice_id: int, reason: str, actor: Actor) -> None:
    from tasks.legal.approvals import reject

    _decide(lambda s: reject(s, notice_id, actor=actor, reason=reason))
    click.echo(f"notice {notice_id} rejected by {actor.name}")


@legal.command("withdraw")
@click.argument("notice_id", type=int)
@click.option("--reason", required=True)
@_by_counsel
def legal_withdraw(notice_id: int, reason: str, actor: Actor) -> None:
    """Withdraw a notice that has not been sent."""
    from tasks.legal.approvals import withdraw

    _decide(lambda s: withdraw(s, notice_id, actor=actor, reason=reason))
    click.echo(f"notice {notice_id} withdrawn by {actor.name}")


@legal.command("acknowledge")
@click.argument("notice_id", type=int)
@click.option("--note", required=True, help="What the company answered.")
@_by_counsel
def legal_acknowledge(notice_id: int, note: str, actor: Actor) -> None:
    """Record the company's answer to a sent notice: it will not be escalated."""
    from tasks.legal.approvals import acknowledge

    _decide(lambda s: acknowledge(s, notice_id, actor=actor, note=note))
    click.echo(f"notice {notice_id} acknowledged, recorded by {actor.name}")


@legal.command("evaluations")
@click.argument("company_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def legal_evaluations(company_id: int, as_json: bool) -> None:
    """Every decision of the legal policy on a company, eligible or not, with its reason."""
    with session_scope() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": e.id,
                "at": e.created_at.isoformat(),
                "policy_version": e.policy_version,
                "eligible": e.eligible,
                "basis": e.basis,
                "reason": e.reason,
                "relied_on": e.relied_on,
                "borderline": e.borderline,
            }
            for e in session.scalars(
                select(LegalEvaluation)
                .where(LegalEvaluation.company_id == company_id)
                .order_by(LegalEvaluation.id)
            )
        ]
    if not rows:
        raise click.ClickException(f"no evaluation of company {company_id} on record")
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        verdict = f"eligible ({row['basis']})" if row["eligible"] else "not eligible"
        flag = f"  borderline={row['borderline']}" if row["borderline"] else ""
        click.echo(
            f"{row['at'][:19]}  {row['policy_version']}  {verdict}: {row['reason']}  "
            f"evidence={row['relied_on']}{flag}"
        )


def _decide(work: Callable[[Session], Outcome]) -> Outcome:
    """A legal reviewer's decision on a notice, committed as the legal workers commit theirs."""
    from infra.users import NotAllowedError
    from tasks.legal.approvals import ApprovalError

    return commit_as_operator(
        work,
        recorded_as="cli.legal",
        follow_ups="the sending of the notice",
        refused=(ApprovalError, NotAllowedError),
    )
