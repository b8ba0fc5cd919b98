"""Counsel's notices: the list by status, and one notice as the company will receive it, with the
evidence it cites, what changed since the previous revision, its delivery and its history; and
the decisions on it (approve this revision, reject, withdraw, record the company's answer).

An approval names the revision and the SHA-256 of the text the page showed, carried by the form:
a text revised after the page was loaded is refused by the body, never approved unread. Every
route is counsel's, reading included: a letter drafts allegations about a company.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import case, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from infra.db.models import Company, LegalNotice, utcnow
from infra.db.session import session_scope
from tasks.legal import approvals, notice_status, notice_view
from tasks.legal.approvals import ApprovalError
from tasks.outcome import Outcome
from workers.console.auth import Viewer, checked, flash, requires
from workers.console.deciding import RefusedError, decide
from workers.console.line_diff import line_diff
from workers.console.paging import Page, Window
from workers.console.state import state_of

router = APIRouter()
Counsel = Annotated[Viewer, Depends(requires("counsel"))]
Csrf = Annotated[str, Form(max_length=128)]
Reason = Annotated[str, Form(max_length=4000)]
STATUSES = ("all", *notice_status.TRANSITIONS)
PAGE_SIZE = 50


@router.get("/notices")
def notices(
    request: Request, viewer: Counsel, status: str = "pending_review", page: int = 1
) -> Response:
    state = state_of(request)
    if status not in STATUSES:
        return state.templates.TemplateResponse(
            request,
            "error.html",
            {"viewer": viewer, "title": "Not understood", "message": f"No status {status!r}."},
            status_code=400,
        )
    window = Window(max(page, 1), PAGE_SIZE)
    waiting = LegalNotice.status == "pending_review"
    query = (
        select(LegalNotice, Company.name)
        .join(Company, Company.id == LegalNotice.company_id)
        # What waits for counsel first, longest waiting on top; then the rest, newest first.
        .order_by(
            case((waiting, 0), else_=1),
            case((waiting, LegalNotice.id), else_=-LegalNotice.id),
        )
        .offset(window.offset)
        .limit(window.limit)
    )
    if status != "all":
        query = query.where(LegalNotice.status == status)
    now = utcnow()
    with session_scope() as session:
        rows = [
            {**notice_view.summary(n), "company": name, "age": age(now - n.created_at)}
            for n, name in session.execute(query)
        ]
    return state.templates.TemplateResponse(
        request,
        "notices.html",
        {
            "viewer": viewer,
            "status": status,
            "statuses": STATUSES,
            "page": Page.of(rows, window, "/notices", {"status": status}),
        },
    )


@router.get("/notices/{notice_id}")
def notice(request: Request, notice_id: int, viewer: Counsel) -> Response:
    state = state_of(request)
    with session_scope() as session:
        found = _notice(session, notice_id)
        shown = notice_view.detail(session, found)
        message = notice_view.outgoing(session, found, state.settings.notice_sender)
        previous = notice_view.previous_text(session, found)
        company = session.get_one(Company, found.company_id)
        withdrawing = notice_status.pending_withdrawal(session, found)
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None  # build_message always sets a plain-text body
    return state.templates.TemplateResponse(
        request,
        "notice.html",
        {
            "viewer": viewer,
            "notice": shown,
            "company": company.name,
            "letter": {
                "headers": {k: message[k] for k in ("From", "To", "Subject", "Message-ID")},
                "text": plain.get_content(),
                "attachment": f"{shown['reference']}.txt",
            },
            "diff": None if previous is None else line_diff(previous, shown["body"]),
            "withdrawing": withdrawing,
            "can": notice_status.TRANSITIONS[shown["status"]],
        },
    )


@router.post("/notices/{notice_id}/approve")
def approve(
    request: Request,
    notice_id: int,
    viewer: Counsel,
    *,
    revision: Annotated[int, Form(ge=1)],
    sha256: Annotated[str, Form(pattern="^[0-9a-f]{64}$")],
    note: Reason = "",
    csrf: Csrf = "",
) -> Response:
    """Approve the revision the page showed, by its number and the hash of its text."""
    actor = checked(viewer, csrf).actor

    def work(session: Session) -> Outcome:
        outcome = approvals.approve(
            session, notice_id, actor=actor, note=note, now=utcnow(), read_sha256=sha256
        )
        if outcome.summary["revision"] != revision:
            # Rolled back with the approval: the page showed another revision.
            raise ApprovalError(
                f"notice {notice_id}: not the revision on record: the page showed revision "
                f"{revision}, revision {outcome.summary['revision']} is current"
            )
        return outcome

    return _decided(
        request,
        viewer,
        notice_id,
        work,
        f"Revision {revision} approved: the legal workers send it now.",
    )


@router.post("/notices/{notice_id}/reject")
def reject(
    request: Request, notice_id: int, viewer: Counsel, reason: Reason = "", csrf: Csrf = ""
) -> Response:
    actor = checked(viewer, csrf).actor
    return _decided(
        request,
        viewer,
        notice_id,
        lambda s: approvals.reject(s, notice_id, actor=actor, reason=reason),
        "Notice rejected: it will not be sent.",
    )


@router.post("/notices/{notice_id}/withdraw")
def withdraw(
    request: Request, notice_id: int, viewer: Counsel, reason: Reason = "", csrf: Csrf = ""
) -> Response:
    actor = checked(viewer, csrf).actor
    return _decided(
        request,
        viewer,
        notice_id,
        lambda s: approvals.withdraw(s, notice_id, actor=actor, reason=reason),
        "Notice withdrawn.",
    )


@router.post("/notices/{notice_id}/acknowledge")
def acknowledge(
    request: Request, notice_id: int, viewer: Counsel, note: Reason = "", csrf: Csrf = ""
) -> Response:
    """The company answered: recorded with what it said, and the notice is not escalated."""
    actor = checked(viewer, csrf).actor
    return _decided(
        request,
        viewer,
        notice_id,
        lambda s: approvals.acknowledge(s, notice_id, actor=actor, note=note),
        "The company's answer is recorded: the notice will not be escalated.",
    )


def age(elapsed: dt.timedelta) -> str:
    """How long ago, to the unit that matters: ``12 min``, ``5 h``, ``3 d``."""
    minutes = int(elapsed.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _notice(session: Session, notice_id: int) -> LegalNotice:
    found = session.get(LegalNotice, notice_id)
    if found is None:
        raise HTTPException(404)
    return found


def _decided(
    request: Request,
    viewer: Viewer,
    notice_id: int,
    work: Callable[[Session], Outcome],
    done: str,
) -> Response:
    """Take the decision; back to the notice with ``done``, or the body's refusal with a link
    to the notice as it is now."""
    state = state_of(request)
    try:
        decide(state, work, recorded_as="console.legal", refused=(ApprovalError,))
    except RefusedError as exc:
        context: dict[str, Any] = {"viewer": viewer, "refusal": str(exc), "notice_id": notice_id}
        return state.templates.TemplateResponse(
            request, "notice_refused.html", context, status_code=409
        )
    response = RedirectResponse(f"/notices/{notice_id}", status_code=303)
    flash(request, response, done)
    return response
