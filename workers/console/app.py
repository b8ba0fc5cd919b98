"""The console's ASGI application: routes, error pages and the middleware every response goes
through. Built by :func:`build` from settings, so tests and ``bulkguard console serve`` make the
same application."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from infra.redis_client import get_redis
from infra.settings import Settings
from tasks.messages import Publisher
from workers.console import auth
from workers.console.pages import (
    appeals,
    audit,
    companies,
    health,
    notices,
    overview,
    reviews,
    triage,
)
from workers.console.secret import session_secret
from workers.console.security import Guard
from workers.console.sessions import Limits
from workers.console.state import FLASH_COOKIE, STATIC, TEMPLATES, ConsoleState, state_of
from workers.console.throttle import Throttle

log = logging.getLogger(__name__)
ROUTERS = (
    auth.router,
    overview.router,
    reviews.router,
    appeals.router,
    notices.router,
    audit.router,
    companies.router,
    triage.router,
    health.router,
)


def build(settings: Settings, *, publisher: Publisher | None = None) -> FastAPI:
    """The console for ``settings``; decisions' follow-ups go through ``publisher`` (the
    workers' Celery app unless given)."""
    if publisher is None:
        # The workers' app, configured from the same settings; loaded only when serving.
        from workers.celery_app import app as celery_app  # noqa: PLC0415

        publisher = celery_app
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.globals["flash"] = _flash
    application = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    application.state.console = ConsoleState(
        settings=settings,
        secret=session_secret(settings),
        limits=Limits(
            idle=dt.timedelta(minutes=settings.console_idle_minutes),
            absolute=dt.timedelta(hours=settings.console_session_hours),
        ),
        throttle=Throttle(
            get_redis(),
            per_user=settings.console_failures_per_user,
            per_address=settings.console_failures_per_address,
            window_seconds=settings.console_lockout_minutes * 60,
        ),
        templates=templates,
        publisher=publisher,
    )
    application.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        application.include_router(router)
    application.add_exception_handler(auth.NotLoggedInError, _not_logged_in)
    application.add_exception_handler(auth.PasswordExpiredError, _must_change_password)
    application.add_exception_handler(auth.ForbiddenError, _forbidden)
    application.add_exception_handler(HTTPException, _http_error)
    application.add_exception_handler(RequestValidationError, _bad_request)
    application.add_exception_handler(Exception, _unexpected)
    application.middleware("http")(_clear_flash)
    application.add_middleware(Guard)
    return application


async def _clear_flash(request: Request, call_next: Any) -> Response:
    """A flash message is shown by the first page that renders after it was set: then gone."""
    response: Response = await call_next(request)
    if FLASH_COOKIE in request.cookies and response.status_code < 300:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return state_of(request).templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "message": message, "viewer": getattr(request.state, "viewer", None)},
        status_code=status,
    )


def _flash(request: Request) -> str | None:
    message = state_of(request).unsign(request.cookies.get(FLASH_COOKIE), dt.timedelta(seconds=60))
    return message if isinstance(message, str) else None


async def _not_logged_in(request: Request, _exc: Exception) -> Response:
    if request.method in ("GET", "HEAD"):
        return auth.login_redirect(request)
    return error_page(
        request, 401, "Not logged in", "Your session has ended. Log in again, then send it again."
    )


async def _must_change_password(request: Request, _exc: Exception) -> Response:
    if request.method in ("GET", "HEAD"):
        return RedirectResponse("/password", status_code=303)
    return error_page(request, 403, "Password", "Choose your own password first.")


async def _forbidden(request: Request, exc: Exception) -> Response:
    return error_page(request, 403, "Not yours to see", f"{exc}.")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_page(request, 404, "Not found", "There is no such page.")
    if exc.status_code == 405:
        return error_page(request, 405, "Not allowed", "This page does not take that request.")
    return error_page(request, exc.status_code, "RefusedError", str(exc.detail))


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = sorted({".".join(str(p) for p in e["loc"][1:]) or "request" for e in exc.errors()})
    return error_page(
        request, 400, "Not understood", f"These fields are missing or invalid: {', '.join(fields)}."
    )


async def _unexpected(request: Request, _exc: Exception) -> Response:
    reference = uuid.uuid4().hex[:12]
    log.exception("console error %s on %s %s", reference, request.method, request.url.path)
    return error_page(
        request,
        500,
        "Something went wrong",
        f"Nothing was decided. Tell an admin the reference {reference}.",
    )
