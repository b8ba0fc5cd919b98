"""The companies behind evidence: found by name or key, read as ``bulkguard companies show``
reads them (keys, evidence and whether each item stands, accounts, merges and splits), with the
passages of each document that make its claim; merged and split by counsel or an admin through
the same decision bodies as ``bulkguard companies merge|split``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction, Evidence, EvidenceLink, utcnow
from infra.db.session import session_scope
from tasks.evidence.company_graph import CompanyGraph, GraphError, Withdrawal, describe
from tasks.evidence.company_search import search
from tasks.evidence.corrections import merge_companies, parse_key, split_company
from tasks.evidence.passages import PreservedDocument, preserved
from workers.console.auth import Viewer, checked, flash, requires
from workers.console.deciding import RefusedError, decide
from workers.console.paging import MAX_PAGE, Paging
from workers.console.state import state_of

router = APIRouter()
READERS = requires("reviewer", "counsel", "admin")
EDITORS = requires("counsel", "admin")
COMPANIES_PER_PAGE = 50
# Each document on the page is read again for its passages: a page holds a bounded number.
EVIDENCE_PER_PAGE = 20


@dataclass(frozen=True)
class Item:
    """A piece of a company's evidence as the page shows it."""

    evidence: Evidence
    link: EvidenceLink
    status: str  # standing | withdrawn | not standing
    why: str | None  # why it does not stand
    withdrawal: Withdrawal | None  # when, by whom and why an appeal withdrew it
    document: PreservedDocument | None


@router.get("/companies")
def companies(
    request: Request,
    viewer: Annotated[Viewer, Depends(READERS)],
    q: Annotated[str, Query(max_length=320)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    paging = Paging(page, COMPANIES_PER_PAGE)
    with session_scope() as session:
        found, total = search(session, q, offset=paging.offset, limit=paging.size)
        return state_of(request).templates.TemplateResponse(
            request,
            "companies.html",
            {"viewer": viewer, "q": q.strip(), "found": found, "paging": paging.of(total)},
        )


@router.get("/companies/{company_id}")
def company(
    request: Request,
    company_id: int,
    viewer: Annotated[Viewer, Depends(READERS)],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    templates = state_of(request).templates
    paging = Paging(page, EVIDENCE_PER_PAGE)
    with session_scope() as session:
        try:
            graph = describe(session, company_id)
        except LookupError as exc:
            return templates.TemplateResponse(
                request,
                "error.html",
                {"viewer": viewer, "title": "No such company", "message": f"{exc}."},
                status_code=404,
            )
        shown = graph.evidence[paging.offset : paging.offset + paging.size]
        return templates.TemplateResponse(
            request,
            "company.html",
            {
                "viewer": viewer,
                "asked": company_id,
                "graph": graph,
                "standing": len(graph.evidence) - len(graph.not_standing),
                "items": [_item(session, graph, evidence, link) for evidence, link in shown],
                "paging": paging.of(len(graph.evidence)),
                "bans": _bans(session, [a.account_id for a in graph.accounts]),
            },
        )


@router.post("/companies/{company_id}/merge")
def merge(
    request: Request,
    company_id: int,
    *,
    viewer: Annotated[Viewer, Depends(EDITORS)],
    others: Annotated[str, Form(max_length=1000)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Fold the companies ``others`` names (ids, separated by commas or spaces) into this one."""
    checked(viewer, csrf)
    ids = [int(n) for n in re.findall(r"\d+", others)]
    if not ids or re.sub(r"[\d,\s]", "", others):
        return _refused(request, viewer, company_id, "name the companies to merge by their ids")
    try:
        outcome = decide(
            state_of(request),
            lambda session: merge_companies(
                session, company_id, ids, actor=viewer.actor, reason=reason, now=utcnow()
            ),
            recorded_as="console.companies.merge",
            refused=(GraphError, LookupError),
        )
    except RefusedError as exc:
        return _refused(request, viewer, company_id, str(exc))
    kept = outcome.summary["company_id"]
    response = RedirectResponse(f"/companies/{kept}", status_code=303)
    merged = ", ".join(map(str, ids))
    flash(request, response, f"Companies {merged} merged into {kept}; legal will evaluate it anew.")
    return response


@router.post("/companies/{company_id}/split")
def split(
    request: Request,
    company_id: int,
    *,
    viewer: Annotated[Viewer, Depends(EDITORS)],
    keys: Annotated[list[str] | None, Form(max_length=400)] = None,
    name: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Move the ticked ``keys`` of this company to a new one, kept apart from it."""
    checked(viewer, csrf)
    try:
        parsed = [parse_key(k) for k in keys or []]
        outcome = decide(
            state_of(request),
            lambda session: split_company(
                session,
                company_id,
                parsed,
                actor=viewer.actor,
                reason=reason,
                now=utcnow(),
                name=name.strip() or None,
            ),
            recorded_as="console.companies.split",
            refused=(GraphError, LookupError),
        )
    except (GraphError, RefusedError) as exc:
        return _refused(request, viewer, company_id, str(exc))
    new = outcome.summary["new_company_id"]
    response = RedirectResponse(f"/companies/{company_id}", status_code=303)
    flash(
        request,
        response,
        f"Company {new} split from {company_id} and kept apart from it; "
        "legal will evaluate both again.",
    )
    return response


def _item(session: Session, graph: CompanyGraph, evidence: Evidence, link: EvidenceLink) -> Item:
    why = graph.not_standing.get(evidence.id)
    withdrawal = graph.withdrawn.get(evidence.id)
    status = "withdrawn" if withdrawal else "not standing" if why else "standing"
    return Item(evidence, link, status, why, withdrawal, preserved(session, evidence))


def _bans(session: Session, account_ids: list[str]) -> dict[str, str]:
    """The status of each account's latest ban (active, reversed, ...)."""
    latest: dict[str, str] = {}
    for account_id, status in session.execute(
        select(EnforcementAction.account_id, EnforcementAction.status)
        .where(EnforcementAction.account_id.in_(account_ids), EnforcementAction.action == "ban")
        .order_by(EnforcementAction.created_at, EnforcementAction.id)
    ):
        latest[account_id] = status
    return latest


def _refused(request: Request, viewer: Viewer, company_id: int, message: str) -> Response:
    context: dict[str, Any] = {
        "viewer": viewer,
        "title": "Refused",
        "message": f"Nothing was changed: {message}.",
        "back": f"/companies/{company_id}",
    }
    return state_of(request).templates.TemplateResponse(
        request, "error.html", context, status_code=409
    )
