"""The review queue: the cases the policy left to a person, oldest first, who holds each; the
case page with what the command line's ``review next`` shows; taking the next case, claiming,
releasing and deciding.

A case is decided by the reviewer holding its lease (``tasks.enforcement.claims``): claim it,
then decide. The decision is the command line's body (``tasks.enforcement.reviews``), run
through the console's unit of work, so it is audited, labelled and enforced as theirs is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from infra.db.models import AuditEvent, EnforcementAction, ReviewClaim, Score, User, utcnow
from infra.db.session import session_scope
from infra.redaction import masked_block, redact
from infra.users import NotAllowedError
from tasks.enforcement import claims
from tasks.enforcement.policy_file import policy_in_force
from tasks.enforcement.reviews import ReviewError, ReviewOutcome, case_of, decide_review
from tasks.neighbourhoods.redis_store import workers_store
from tasks.neighbourhoods.rules import NEIGHBOUR_FEATURES
from tasks.outcome import Outcome
from tasks.scoring.features import FEATURES
from workers.console.auth import ForbiddenError, Viewer, checked, flash, requires
from workers.console.deciding import RefusedError, decide
from workers.console.state import state_of

router = APIRouter()
PAGE_SIZE = 50
STAGES = ("registration", "messaging", "feedback")
Stage = Literal["registration", "messaging", "feedback"]
PENDING = (EnforcementAction.action == "review", EnforcementAction.status == "pending")


@dataclass(frozen=True)
class Waiting:
    """One line of the queue."""

    review_id: int
    account_id: str
    stage: str
    score: float
    model_version: str
    rule: str | None
    waiting_since: dt.datetime
    waited: str
    holder: str | None
    held_until: dt.datetime | None
    mine: bool


def waiting_by_stage(session: Session) -> dict[str, int]:
    """How many cases wait at each detection point."""
    rows = session.execute(
        select(Score.stage, func.count())
        .select_from(EnforcementAction)
        .join(Score, Score.id == EnforcementAction.score_id)
        .where(*PENDING)
        .group_by(Score.stage)
    ).all()
    return dict(rows)


def waiting(
    session: Session, *, now: dt.datetime, stage: str | None, page: int, viewer_id: int | None
) -> list[Waiting]:
    """One page of pending cases, oldest first, with the live lease on each: one query."""
    query = (
        select(
            EnforcementAction.id,
            EnforcementAction.account_id,
            EnforcementAction.score,
            EnforcementAction.model_version,
            EnforcementAction.rule,
            EnforcementAction.created_at,
            Score.stage,
            ReviewClaim.user_id,
            ReviewClaim.expires_at,
            User.display_name,
        )
        .join(Score, Score.id == EnforcementAction.score_id)
        .outerjoin(
            ReviewClaim,
            (ReviewClaim.review_id == EnforcementAction.id) & (ReviewClaim.expires_at > now),
        )
        .outerjoin(User, User.id == ReviewClaim.user_id)
        .where(*PENDING)
        .order_by(EnforcementAction.created_at, EnforcementAction.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    if stage is not None:
        query = query.where(Score.stage == stage)
    return [
        Waiting(
            review_id=row.id,
            account_id=row.account_id,
            stage=row.stage,
            score=row.score,
            model_version=row.model_version,
            rule=row.rule,
            waiting_since=row.created_at,
            waited=_duration(now - row.created_at),
            holder=row.display_name,
            held_until=row.expires_at,
            mine=row.user_id is not None and row.user_id == viewer_id,
        )
        for row in session.execute(query)
    ]


@router.get("/reviews")
def queue(
    request: Request,
    viewer: Annotated[Viewer, Depends(requires("reviewer"))],
    stage: Stage | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    now = utcnow()
    with session_scope() as session:
        counts = waiting_by_stage(session)
        rows = waiting(session, now=now, stage=stage, page=page, viewer_id=viewer.actor.user_id)
    total = counts.get(stage, 0) if stage else sum(counts.values())
    return state_of(request).templates.TemplateResponse(
        request,
        "reviews.html",
        {
            "viewer": viewer,
            "rows": rows,
            "counts": counts,
            "stages": STAGES,
            "stage": stage,
            "total": sum(counts.values()),
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
        },
    )


@router.get("/reviews/{review_id}")
def case_page(
    request: Request, review_id: int, viewer: Annotated[Viewer, Depends(requires("reviewer"))]
) -> Response:
    now = utcnow()
    with session_scope() as session:
        review = session.get(EnforcementAction, review_id)
        if review is None or review.action != "review":
            raise HTTPException(404)
        case = case_of(session, review, session.get_one(Score, review.score_id))
        lease = claims.live(session, review_id, now)
        decided = _decision(session, review) if review.status != "pending" else None
        shown: dict[str, Any] = {
            "review": review,
            "score": case.score,
            "account": case.account,
            "phone": masked_block(case.account.phone_block),
            "waited": _duration(now - review.created_at),
            "reasons": review.reasons or [],
            "neighbourhood": _neighbourhood(case.score.features),
            "signals": _flattened(case.record) if case.record else [],
            "history": case.history,
        }
    return state_of(request).templates.TemplateResponse(
        request,
        "review_case.html",
        {
            "viewer": viewer,
            **shown,
            "lease": lease,
            "mine": lease is not None and lease.user_id == viewer.actor.user_id,
            "decided": decided,
            "decided_note": _note(decided),
            "claim_minutes": state_of(request).settings.console_claim_minutes,
        },
    )


@router.post("/reviews/next")
def take_next(
    request: Request,
    viewer: Annotated[Viewer, Depends(requires("reviewer"))],
    stage: Annotated[Stage | None, Form()] = None,
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Claim the case that has waited longest unclaimed (at the queue's stage) and open it; a
    reviewer who still holds a case is sent back to it instead, so nobody hoards cases."""
    checked(viewer, csrf)
    lease = dt.timedelta(minutes=state_of(request).settings.console_claim_minutes)
    now = utcnow()
    try:
        with session_scope() as session:
            holding = claims.held(session, viewer.actor.user_id, now)
            taken = (
                None
                if holding is not None
                else claims.claim_next(session, viewer.actor, lease=lease, now=now, stage=stage)
            )
    except NotAllowedError as exc:
        raise ForbiddenError(str(exc)) from exc
    if holding is not None:
        response = RedirectResponse(f"/reviews/{holding}", status_code=303)
        flash(request, response, f"You hold review case {holding}: decide or release it first.")
        return response
    if taken is None:
        response = RedirectResponse(f"/reviews?stage={stage}" if stage else "/reviews", 303)
        flash(request, response, "No case waits unclaimed: nothing was taken.")
        return response
    response = RedirectResponse(f"/reviews/{taken.review_id}", status_code=303)
    flash(request, response, f"Review case {taken.review_id} is yours until {taken.until}.")
    return response


@router.post("/reviews/{review_id}/claim")
def claim(
    request: Request,
    review_id: int,
    viewer: Annotated[Viewer, Depends(requires("reviewer"))],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    checked(viewer, csrf)
    lease = dt.timedelta(minutes=state_of(request).settings.console_claim_minutes)
    try:
        with session_scope() as session:
            taken = claims.claim(session, review_id, viewer.actor, lease=lease, now=utcnow())
    except NotAllowedError as exc:
        raise ForbiddenError(str(exc)) from exc
    except claims.ClaimError as exc:
        return _refused(request, viewer, str(exc))
    response = RedirectResponse(f"/reviews/{review_id}", status_code=303)
    flash(request, response, f"Review case {review_id} is yours until {taken.until}.")
    return response


@router.post("/reviews/{review_id}/release")
def release(
    request: Request,
    review_id: int,
    viewer: Annotated[Viewer, Depends(requires("reviewer"))],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    checked(viewer, csrf)
    with session_scope() as session:
        released = claims.release(session, review_id, viewer.actor)
    if not released:
        return _refused(request, viewer, f"You hold no claim on review case {review_id}.")
    response = RedirectResponse("/reviews", status_code=303)
    flash(request, response, f"Review case {review_id} released: someone else may take it.")
    return response


@router.post("/reviews/{review_id}/decide")
def decide_case(
    request: Request,
    review_id: int,
    *,
    viewer: Annotated[Viewer, Depends(requires("reviewer"))],
    outcome: Annotated[ReviewOutcome, Form()],
    note: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    checked(viewer, csrf)
    state = state_of(request)
    policy = policy_in_force(state.settings.policy_file)
    neighbours = workers_store()

    def work(session: Session) -> Outcome:
        return decide_review(
            session,
            review_id,
            outcome=outcome,
            actor=viewer.actor,
            note=note.strip(),
            policy=policy,
            neighbours=neighbours,
            now=utcnow(),
            claimed=True,
        )

    try:
        summary = decide(
            state, work, recorded_as="console.review.decide", refused=(ReviewError,)
        ).summary
    except RefusedError as exc:
        return _refused(request, viewer, str(exc))
    with session_scope() as session:
        following = claims.oldest_unclaimed(session, utcnow())
    response = RedirectResponse(
        f"/reviews/{following}" if following is not None else "/reviews", status_code=303
    )
    flash(request, response, _decided(review_id, outcome, summary, following))
    return response


def _decided(review_id: int, outcome: str, summary: dict[str, Any], following: int | None) -> str:
    """What the decision did, as the command line says it, and where the person is now."""
    made = summary.get("action_id")
    parts = [f"Review case {review_id}: {outcome}"]
    if summary.get("already_decided"):
        parts[0] += " (already decided so)"
    if made:
        parts.append(f"action {made} ({summary.get('action', outcome)}) in force")
    if summary.get("note"):
        parts.append(str(summary["note"]))
    where = "This is the oldest unclaimed case." if following else "No unclaimed case is left."
    return "; ".join(parts) + ". " + where


def _refused(request: Request, viewer: Viewer, message: str) -> Response:
    return state_of(request).templates.TemplateResponse(
        request,
        "error.html",
        {"viewer": viewer, "title": "Refused", "message": message[:1].upper() + message[1:]},
        status_code=409,
    )


def _decision(session: Session, review: EnforcementAction) -> AuditEvent | None:
    """The person's (or the clock's) decision that closed the case, as audited."""
    found: AuditEvent | None = session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "enforcement_action",
            AuditEvent.entity_id == review.id,
            AuditEvent.event.like("review:%"),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return found


def _note(decided: AuditEvent | None) -> str:
    """The decider's note: it may quote the record, so it is masked as the record is."""
    if decided is None:
        return ""
    return redact(str((decided.details or {}).get("note") or ""))


def _neighbourhood(features: list[Any] | None) -> list[tuple[str, float | None]]:
    """The neighbourhood figures in the feature row the model saw, where it was kept (the
    acting model's scores keep theirs) and has this release's shape."""
    if not features or len(features) != len(FEATURES):
        return []
    row = dict(zip(FEATURES, features, strict=True))
    return [(name, row[name]) for name in NEIGHBOUR_FEATURES]


def _flattened(record: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The record's fields as dotted names and masked text, as ``review next`` masks them."""
    out: list[tuple[str, str]] = []
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flattened(value, f"{name}."))
        else:
            out.append((name, redact("—" if value is None else str(value))))
    return out


def _duration(span: dt.timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"
