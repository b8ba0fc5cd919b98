"""Appeals (reviewers): the appeals account holders filed that wait for a person, oldest first;
each beside the action it is against, and a form to uphold or overturn it with a reason. The
decision is the CLI's and the signed task's (``tasks.enforcement.appeals``): an overturn lifts
the action and undoes what it caused. An appeal decided meanwhile, by anyone, is refused with
who decided it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from infra.db.models import EnforcementAction, utcnow
from infra.db.session import session_scope
from infra.redaction import masked_block, redact
from tasks.enforcement.appeal_requests import Case, case_of, decide_waiting, waiting
from tasks.enforcement.appeals import AppealError
from tasks.neighbourhoods.redis_store import workers_store
from workers.console.auth import Viewer, checked, flash, requires
from workers.console.deciding import RefusedError, decide
from workers.console.paging import MAX_PAGE, Page, Window
from workers.console.state import state_of

router = APIRouter()
Reviewer = Annotated[Viewer, Depends(requires("reviewer"))]
PAGE_SIZE = 50
WHEN = "%Y-%m-%d %H:%M"


@router.get("/appeals")
def appeals(
    request: Request,
    viewer: Reviewer,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    window = Window(page, PAGE_SIZE)
    with session_scope() as session:
        listed = [
            {
                "id": w.request.id,
                "filed_at": f"{w.request.filed_at:{WHEN}}",
                "action": _action(w.action),
                "account_id": redact(w.account.account_id),
                "account_status": w.account.status,
                "statement": redact(w.request.statement),
            }
            for w in waiting(session, limit=window.limit, offset=window.offset)
        ]
    return state_of(request).templates.TemplateResponse(
        request,
        "appeals.html",
        {"viewer": viewer, "page": Page.of(listed, window, "/appeals", {})},
    )


@router.get("/appeals/{request_id}")
def appeal(request: Request, request_id: int, viewer: Reviewer) -> Response:
    return _page(request, viewer, request_id)


@router.post("/appeals/{request_id}")
def decide_one(
    request: Request,
    request_id: int,
    viewer: Reviewer,
    *,
    outcome: Annotated[Literal["uphold", "overturn"], Form()],
    reason: Annotated[str, Form(max_length=2000)],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    checked(viewer, csrf)
    try:
        decided = decide(
            state_of(request),
            lambda session: decide_waiting(
                session,
                request_id,
                outcome=outcome,
                actor=viewer.actor,
                reason=reason,
                neighbours=workers_store(),
                now=utcnow(),
            ),
            recorded_as="console.appeal",
            refused=(AppealError,),
        ).summary
    except RefusedError as exc:
        return _page(request, viewer, request_id, error=str(exc), reason=reason)
    done = "upheld" if outcome == "uphold" else "overturned and lifted"
    message = f"Appeal against action {decided['action_id']} {done}: the account is "
    message += str(decided["account_status"])
    if decided["companies"]:
        message += f"; companies {', '.join(map(str, decided['companies']))} go back to legal"
    response = RedirectResponse("/appeals", status_code=303)
    flash(request, response, message + ".")
    return response


def _page(
    request: Request, viewer: Viewer, request_id: int, *, error: str | None = None, reason: str = ""
) -> Response:
    """The appeal beside the action it is against; refused (409) with ``error`` when a
    decision on it was refused, the reason the reviewer wrote kept in the form."""
    with session_scope() as session:
        case = case_of(session, request_id)
        if case is None:
            raise HTTPException(404)
        shown = _shown(case)
    return state_of(request).templates.TemplateResponse(
        request,
        "appeal.html",
        {"viewer": viewer, "appeal": shown, "error": error, "reason": reason},
        status_code=409 if error else 200,
    )


def _shown(case: Case) -> dict[str, Any]:
    """What the page shows, phone numbers and e-mail addresses masked."""
    action, account, decision = case.action, case.account, case.decision
    return {
        "id": case.request.id,
        "filed_at": f"{case.request.filed_at:{WHEN}}",
        "filed_by": case.request.filed_by,
        "statement": redact(case.request.statement),
        "action": {
            **_action(action),
            "score": f"{action.score:.4f}",
            "model_version": action.model_version,
            "rule": action.rule or "-",
            "policy_version": action.policy_version,
            "by": action.actor,
            "expires_at": f"{action.expires_at:{WHEN}}" if action.expires_at else None,
            "reasons": [
                {
                    "feature": str(r.get("feature", "")),
                    "value": redact(str(r.get("value", ""))),
                    "contribution": f"{float(r.get('contribution', 0.0)):+.3f}",
                }
                for r in action.reasons or []
                if isinstance(r, dict)
            ],
        },
        "account": {
            "id": redact(account.account_id),
            "phone": masked_block(account.phone_block),
            "country": account.country or "-",
            "status": account.status,
            "first_seen_at": f"{account.first_seen_at:{WHEN}}",
        },
        "history": [{**_action(past), "by": past.actor} for past in case.history],
        "decision": None
        if decision is None
        else {
            "outcome": decision.outcome,
            "by": decision.decided_by,
            "at": f"{decision.decided_at:{WHEN}}",
            "reason": redact(decision.reason),
        },
    }


def _action(action: EnforcementAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "action": action.action,
        "status": action.status,
        "at": f"{action.created_at:{WHEN}}",
    }
