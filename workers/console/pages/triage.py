"""Evidence triage: reviewers check how the reader read off-platform documents (every claim it
found, and the borderline readings where it may have missed one, ``tasks.evidence.triage``),
each with its passages in context and the companies it is linked to, and give a verdict with a
reason. The verdicts are the evidence reader's labels."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Company, EvidenceLink, utcnow
from infra.db.session import session_scope
from tasks.evidence.passages import PreservedDocument, preserved
from tasks.evidence.triage import Triaged, queue
from tasks.evidence.verdicts import VerdictError, record_verdict
from workers.console.auth import Viewer, checked, flash, requires
from workers.console.deciding import RefusedError, decide
from workers.console.paging import MAX_PAGE, Paging
from workers.console.state import state_of

router = APIRouter()
REVIEWERS = requires("reviewer")
# Each document on the page is read again for its passages: a page holds a bounded number.
PER_PAGE = 20


@dataclass(frozen=True)
class Reading:
    """A reading to check, as the page shows it."""

    triaged: Triaged
    document: PreservedDocument | None
    companies: list[Company]


@router.get("/triage")
def triage(
    request: Request,
    viewer: Annotated[Viewer, Depends(REVIEWERS)],
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    paging = Paging(page, PER_PAGE)
    with session_scope() as session:
        rows, total = queue(session, offset=paging.offset, limit=paging.size)
        linked = _companies(session, [r.evidence.id for r in rows])
        readings = [
            Reading(r, preserved(session, r.evidence), linked.get(r.evidence.id, [])) for r in rows
        ]
        return state_of(request).templates.TemplateResponse(
            request,
            "triage.html",
            {"viewer": viewer, "readings": readings, "paging": paging.of(total)},
        )


@router.post("/triage/{evidence_id}")
def give_verdict(
    request: Request,
    evidence_id: int,
    *,
    viewer: Annotated[Viewer, Depends(REVIEWERS)],
    verdict: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    page: Annotated[int, Form(ge=1, le=MAX_PAGE)] = 1,
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    checked(viewer, csrf)
    try:
        decide(
            state_of(request),
            lambda session: record_verdict(
                session, evidence_id, verdict, reason, actor=viewer.actor, now=utcnow()
            ),
            recorded_as="console.evidence.verdict",
            refused=(VerdictError, LookupError),
        )
    except RefusedError as exc:
        context: dict[str, Any] = {
            "viewer": viewer,
            "title": "Refused",
            "message": f"Nothing was recorded: {exc}.",
            "back": f"/triage?page={page}#evidence-{evidence_id}",
        }
        return state_of(request).templates.TemplateResponse(
            request, "error.html", context, status_code=409
        )
    response = RedirectResponse(f"/triage?page={page}", status_code=303)
    flash(request, response, f"Verdict on evidence {evidence_id} recorded: {verdict}.")
    return response


def _companies(session: Session, evidence_ids: list[int]) -> dict[int, list[Company]]:
    """The companies each piece of evidence is linked to (a merge re-points links, so these are
    the companies as they stand)."""
    if not evidence_ids:
        return {}
    linked: dict[int, list[Company]] = defaultdict(list)
    for evidence_id, company in session.execute(
        select(EvidenceLink.evidence_id, Company)
        .join(Company, Company.id == EvidenceLink.company_id)
        .where(EvidenceLink.evidence_id.in_(evidence_ids))
        .order_by(Company.id)
    ):
        linked[evidence_id].append(company)
    return linked
