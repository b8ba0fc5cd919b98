"""The audit trail for counsel and admins: who did what, to which account's enforcement actions,
company, notice or user, and when; searchable, and exported as CSV for whoever asks outside."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from infra.db.models import utcnow
from infra.db.session import session_scope
from workers.console.audit_trail import TrailFilter, entries, everything, trail
from workers.console.auth import Viewer, record_user_event, requires
from workers.console.paging import Page, Window
from workers.console.state import state_of

router = APIRouter()
Auditor = Annotated[Viewer, Depends(requires("counsel", "admin"))]
Search = Annotated[str, Query(max_length=200)]
PAGE_SIZE = 100
HEADER = (
    "at",
    "source",
    "entity",
    "entity_id",
    "event",
    "actor",
    "user",
    "display_name",
    "channel",
    "details",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@router.get("/audit")
def audit(
    request: Request,
    viewer: Auditor,
    *,
    user: Search = "",
    account: Search = "",
    company: Search = "",
    notice: Search = "",
    since: Search = "",
    until: Search = "",
    page: int = 1,
) -> Response:
    state = state_of(request)
    fields = {"user": user, "account": account, "company": company, "notice": notice}
    try:
        wanted = TrailFilter.parse(
            user=user, account=account, company=company, notice=notice, since=since, until=until
        )
    except ValueError as exc:
        return state.templates.TemplateResponse(
            request,
            "audit.html",
            {**_context(viewer, {**fields, "since": since, "until": until}), "error": str(exc)},
            status_code=400,
        )
    window = Window(max(page, 1), PAGE_SIZE)
    with session_scope() as session:
        rows = entries(session, trail(wanted).offset(window.offset).limit(window.limit))
    query = wanted.query()
    return state.templates.TemplateResponse(
        request,
        "audit.html",
        {
            **_context(viewer, query),
            "page": Page.of(rows, window, "/audit", query),
            "csv_url": _with_query("/audit.csv", query),
        },
    )


@router.get("/audit.csv")
def audit_csv(
    viewer: Auditor,
    *,
    user: Search = "",
    account: Search = "",
    company: Search = "",
    notice: Search = "",
    since: Search = "",
    until: Search = "",
) -> Response:
    try:
        wanted = TrailFilter.parse(
            user=user, account=account, company=company, notice=notice, since=since, until=until
        )
    except ValueError as exc:
        return Response(f"{exc}\n", status_code=400, media_type="text/plain")
    # The trail leaves the system here, with whatever accounts and companies it names: who
    # took it, and which part, is itself on the trail (before the first row is read).
    with session_scope() as session:
        asked = {field: value for field, value in wanted.query().items() if value}
        record_user_event(session, viewer.actor, "audit_exported", asked)
    name = f"bulkguard-audit-{utcnow():%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(
        _csv(wanted),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def neutral(cell: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made to read as text."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _csv(wanted: TrailFilter) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for e in everything(wanted):
        writer.writerow(
            neutral(cell)
            for cell in (
                e.at.isoformat(),
                e.source,
                e.entity,
                e.entity_id,
                e.event,
                e.actor,
                e.user_name or "",
                e.display_name or "",
                e.channel or "",
                e.details,
            )
        )
        if buffer.tell() > 64 * 1024:
            yield _drained(buffer)
    yield _drained(buffer)


def _drained(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _with_query(path: str, query: dict[str, str]) -> str:
    given = urlencode({k: v for k, v in query.items() if v})
    return f"{path}?{given}" if given else path


def _context(viewer: Viewer, fields: dict[str, str]) -> dict[str, object]:
    return {"viewer": viewer, "fields": fields, "page": None, "csv_url": None, "error": None}
