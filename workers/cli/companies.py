"""``bulkguard companies``: the company graph for operators and counsel."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import Company, CompanyIndicator, EvidenceLink, utcnow
from infra.db.session import session_scope
from infra.users import Actor
from tasks.evidence.company_graph import CompanyGraph, GraphError
from tasks.outcome import Outcome
from workers.cli.acting import acting
from workers.cli.commit import commit_as_operator


@click.group()
def companies() -> None:
    """The companies behind evidence, joined over shared strong keys."""


@companies.command("list")
def companies_list() -> None:
    """Companies now standing (not merged into another), with their key and evidence counts."""
    with session_scope() as session:
        keys = dict(
            session.execute(
                select(CompanyIndicator.company_id, func.count()).group_by(
                    CompanyIndicator.company_id
                )
            ).all()
        )
        evidence = dict(
            session.execute(
                select(EvidenceLink.company_id, func.count()).group_by(EvidenceLink.company_id)
            ).all()
        )
        for company in session.scalars(
            select(Company).where(Company.merged_into.is_(None)).order_by(Company.id)
        ):
            click.echo(
                f"{company.id}\t{company.name}\tkeys={keys.get(company.id, 0)}\t"
                f"evidence={evidence.get(company.id, 0)}"
            )


@companies.command("show")
@click.argument("company_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the graph as JSON.")
def companies_show(company_id: int, as_json: bool) -> None:
    """A company's graph: its keys and the evidence carrying each, its evidence (how much of it
    stands; what an appeal withdrew is marked WITHDRAWN with the date and reason) and accounts,
    the companies merged into it, those kept apart from it, and its history."""
    from tasks.evidence.company_graph import describe

    with session_scope() as session:
        try:
            graph = describe(session, company_id)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        shown = _as_json(graph)
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    click.echo(_as_text(company_id, shown))


@companies.command("merge")
@click.argument("survivor", type=int)
@click.argument("others", type=int, nargs=-1, required=True)
@click.option("--reason", required=True, help="Why they are one company (recorded).")
@acting("counsel", "admin")
def companies_merge(survivor: int, others: tuple[int, ...], reason: str, actor: Actor) -> None:
    """Fold OTHERS into SURVIVOR: keys, evidence and accounts move; drafts to them are withdrawn."""
    from tasks.evidence.corrections import merge_companies

    _correct(
        lambda session: merge_companies(
            session, survivor, others, actor=actor, reason=reason, now=utcnow()
        ),
        "cli.companies.merge",
    )
    click.echo(f"companies {', '.join(map(str, others))} merged into {survivor} by {actor.name}")


@companies.command("split")
@click.argument("company_id", type=int)
@click.option(
    "--key", "keys", multiple=True, required=True, help="A key to move, e.g. domain:acme.sk."
)
@click.option("--name", default=None, help="Name of the new company (default: its first key).")
@click.option("--reason", required=True, help="Why they are two companies (recorded).")
@acting("counsel", "admin")
def companies_split(
    company_id: int, keys: tuple[str, ...], name: str | None, reason: str, actor: Actor
) -> None:
    """Move KEYs of COMPANY_ID, with the evidence only they reach, to a new company kept apart."""
    from tasks.evidence.corrections import parse_key, split_company

    try:
        parsed = [parse_key(k) for k in keys]
    except GraphError as exc:
        raise click.ClickException(str(exc)) from exc
    outcome = _correct(
        lambda session: split_company(
            session, company_id, parsed, actor=actor, reason=reason, now=utcnow(), name=name
        ),
        "cli.companies.split",
    )
    click.echo(
        f"company {outcome['new_company_id']} split from {company_id} by {actor.name}; "
        "the two are kept apart from now on"
    )


def _correct(work: Callable[[Session], Outcome], recorded_as: str) -> dict[str, Any]:
    """An operator's correction of the company graph; legal re-evaluates what it changed."""
    return commit_as_operator(
        work,
        recorded_as=recorded_as,
        follow_ups="the legal re-evaluation",
        refused=(GraphError, LookupError),
    ).summary


def _as_json(graph: CompanyGraph) -> dict[str, Any]:
    company = graph.company
    withdrawn = {
        evidence_id: {
            "at": w.at.isoformat() if w.at is not None else None,
            "by": w.by,
            "reason": w.reason,
        }
        for evidence_id, w in graph.withdrawn.items()
    }
    return {
        "id": company.id,
        "name": company.name,
        "origin_key": company.origin_key,
        "keys": [
            {"kind": kind, "value": value, "evidence": graph.key_evidence[(kind, value)]}
            for kind, value in graph.keys
        ],
        "evidence": [
            {
                "id": item.id,
                "source": item.source,
                "kind": item.kind,
                "observed_at": item.observed_at.isoformat(),
                "url": item.url,
                "claim": item.claims_bulk,
                "voice": item.indicators.get("voice"),
                "method": link.method,
                "confidence": link.confidence,
                "excerpt": item.excerpt,
                # Whether legal may cite it, and if not, why; when and why an appeal withdrew it.
                "stands": item.id not in graph.not_standing,
                "not_standing": graph.not_standing.get(item.id),
                "withdrawn": withdrawn.get(item.id),
            }
            for item, link in graph.evidence
        ],
        "evidence_standing": len(graph.evidence) - len(graph.not_standing),
        "accounts": [
            {"account_id": a.account_id, "method": a.method, "evidence_id": a.evidence_id}
            for a in graph.accounts
        ],
        "merged_from": [{"id": c.id, "name": c.name} for c in graph.absorbed],
        "kept_apart_from": graph.separated_from,
        "history": [
            {
                "at": e.at.isoformat(),
                "event": e.event,
                "actor": e.actor,
                "details": e.details,
            }
            for e in graph.history
        ],
    }


def _as_text(asked: int, shown: dict[str, Any]) -> str:
    lines = [f"company {shown['id']}: {shown['name']}"]
    if asked != shown["id"]:
        lines[0] += f"  (company {asked} was merged into it)"
    lines.append(f"  first seen by {shown['origin_key'] or 'an operator split'}")
    lines.append("keys (and the evidence carrying each):")
    lines += [
        f"  {k['kind']}:{k['value']}  <- evidence {', '.join(map(str, k['evidence'])) or '-'}"
        for k in shown["keys"]
    ] or ["  none"]
    lines.append(f"evidence ({shown['evidence_standing']} of {len(shown['evidence'])} standing):")
    for e in shown["evidence"]:
        what = "claim" if e["claim"] else (e["voice"] or e["kind"])
        line = (
            f"  {e['id']}  {e['observed_at'][:10]}  {e['source']}/{what}  "
            f"{e['method']} {e['confidence']:.2f}  {e['url'] or ''}"
        )
        if e["withdrawn"] is not None:
            line = f"{line.rstrip()}  {_withdrawn(e['withdrawn'])}"
        elif not e["stands"]:
            line = f"{line.rstrip()}  NOT STANDING: {e['not_standing']}"
        lines.append(line)
    lines.append("accounts:")
    lines += [f"  {a['account_id']}  ({a['method']})" for a in shown["accounts"]] or ["  none"]
    if shown["merged_from"]:
        lines.append(
            "merged from: " + ", ".join(f"{c['id']} ({c['name']})" for c in shown["merged_from"])
        )
    if shown["kept_apart_from"]:
        lines.append("kept apart from: " + ", ".join(map(str, shown["kept_apart_from"])))
    if shown["history"]:
        lines.append("history:")
        lines += [
            f"  {h['at'][:19]}  {h['event']}  by {h['actor']}  {json.dumps(h['details'])}"
            for h in shown["history"]
        ]
    return "\n".join(lines)


def _withdrawn(withdrawal: dict[str, Any]) -> str:
    """The marker of evidence an appeal withdrew, on one line whatever the reason holds."""
    when = (withdrawal["at"] or "undated")[:10]
    reason = " ".join((withdrawal["reason"] or "no reason recorded").split())
    by = f" (appeal overturned by {withdrawal['by']})" if withdrawal["by"] else ""
    return f"WITHDRAWN {when}: {reason}{by}"
