"""Who is looking: login, logout and password change, and the dependency every page declares
with the roles it needs (:func:`requires`). The check is made on every route, not only in menus:
a reviewer who types counsel's address gets a 403."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from infra.db.models import AuditEvent, User, utcnow
from infra.db.session import session_scope
from infra.users import Actor, NotAllowedError, Role, authenticate_password, roles_of, set_password
from workers.console import sessions
from workers.console.security import csrf_token, csrf_valid
from workers.console.state import FLASH_COOKIE, SESSION_COOKIE, state_of

LOGIN_COOKIE = "bulkguard_login"
router = APIRouter()


@dataclass(frozen=True)
class Viewer:
    """The person behind a request, with what the page needs to act for them."""

    actor: Actor
    display_name: str
    roles: frozenset[str]
    session_key: str
    csrf: str

    def holds(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class NotLoggedInError(Exception):
    """No live session: a page is redirected to the login, a form refused."""


class ForbiddenError(Exception):
    """Logged in, without the role the route needs."""


class PasswordExpiredError(Exception):
    """A one-time password is still in use: nothing else until it is replaced."""


def current(request: Request, *, allow_expired: bool = False) -> Viewer:
    state = state_of(request)
    key = state.unsign(request.cookies.get(SESSION_COOKIE), state.limits.absolute)
    if not isinstance(key, str):
        raise NotLoggedInError
    with session_scope() as session:
        found = sessions.resume(session, key, limits=state.limits, now=utcnow())
        if found is None:
            raise NotLoggedInError
        _, user = found
        if user.password_expired and not allow_expired:
            raise PasswordExpiredError
        viewer = Viewer(
            actor=Actor(name=user.name, user_id=user.id, channel="console"),
            display_name=user.display_name,
            roles=frozenset(roles_of(session, user.id)),
            session_key=key,
            csrf=csrf_token(state.secret, key),
        )
    request.state.viewer = viewer
    return viewer


def requires(*roles: Role) -> Callable[[Request], Viewer]:
    """The dependency of a route that ``roles`` may use (none given: any user)."""

    def dependency(request: Request) -> Viewer:
        viewer = current(request)
        if roles and not viewer.holds(*roles):
            raise ForbiddenError(f"this page is for {' or '.join(roles)}")
        return viewer

    return dependency


def checked(viewer: Viewer, csrf: str) -> Viewer:
    """The viewer, if the form came from one of our pages in their session."""
    if not secrets.compare_digest(viewer.csrf, csrf or ""):
        raise ForbiddenError(
            "the form was not sent from this session's page: reload it and try again"
        )
    return viewer


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    state = state_of(request)
    nonce = secrets.token_urlsafe(16)
    response = state.templates.TemplateResponse(
        request,
        "login.html",
        {"next": _local(next), "csrf": csrf_token(state.secret, "login:" + nonce), "error": None},
    )
    _set_cookie(request, response, LOGIN_COOKIE, state.sign(nonce), max_age=3600)
    return response


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    state = state_of(request)
    nonce = state.unsign(request.cookies.get(LOGIN_COOKIE), dt.timedelta(hours=1))
    address = request.client.host if request.client else "-"
    if not isinstance(nonce, str) or not csrf_valid(state.secret, "login:" + nonce, csrf):
        return _login_again(request, next, "The login form expired: try again.", 403)
    name = name.strip().lower()
    wait = state.throttle.wait_seconds(name, address)
    if wait:
        minutes = max(1, round(wait / 60))
        message = f"Too many failed logins for this user or from this address: wait {minutes} min."
        return _login_again(request, next, message, 429)
    try:
        with session_scope() as session:
            actor = authenticate_password(session, name, password, channel="console")
            user = session.get_one(User, actor.user_id)
            key = sessions.start(session, user, address=address, now=utcnow())
            record_user_event(session, actor, "login", {"address": address})
    except NotAllowedError:
        state.throttle.failed(name, address)
        return _login_again(request, next, "Unknown user, or wrong password.", 401)
    state.throttle.succeeded(name)
    response = RedirectResponse(_local(next), status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, state.sign(key), max_age=None)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    viewer = checked(current(request, allow_expired=True), csrf)
    with session_scope() as session:
        sessions.end(session, viewer.session_key, why="logout", now=utcnow())
        record_user_event(session, viewer.actor, "logout", {})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password")
def password_page(request: Request) -> Response:
    viewer = current(request, allow_expired=True)
    return state_of(request).templates.TemplateResponse(
        request, "password.html", {"viewer": viewer, "error": None}
    )


@router.post("/password")
def change_password(
    request: Request,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    repeated: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    viewer = checked(current(request, allow_expired=True), csrf)
    state = state_of(request)
    error = None
    if new_password != repeated:
        error = "The two new passwords differ."
    elif new_password == current_password:
        error = "Choose a password other than the one you were given."
    else:
        try:
            with session_scope() as session:
                authenticate_password(
                    session, viewer.actor.name, current_password, channel="console"
                )
                user = session.get_one(User, viewer.actor.user_id)
                set_password(session, user, new_password, by=None, now=utcnow())
                sessions.end_all(
                    session, user.id, why="password_changed", now=utcnow(), keep=viewer.session_key
                )
        except NotAllowedError:
            error = "The current password is wrong."
        except ValueError as exc:
            error = str(exc)
    if error:
        return state.templates.TemplateResponse(
            request, "password.html", {"viewer": viewer, "error": error}, status_code=400
        )
    response = RedirectResponse("/", status_code=303)
    flash(request, response, "Password changed.")
    return response


def flash(request: Request, response: Response, message: str) -> None:
    """A one-line message the next page shows once."""
    _set_cookie(request, response, FLASH_COOKIE, state_of(request).sign(message), max_age=60)


def _login_again(request: Request, next: str, error: str, status: int) -> Response:
    state = state_of(request)
    nonce = secrets.token_urlsafe(16)
    response = state.templates.TemplateResponse(
        request,
        "login.html",
        {"next": _local(next), "csrf": csrf_token(state.secret, "login:" + nonce), "error": error},
        status_code=status,
    )
    _set_cookie(request, response, LOGIN_COOKIE, state.sign(nonce), max_age=3600)
    return response


def _local(target: str) -> str:
    """Only a path of this site: a login must not send anyone elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def record_user_event(session: Session, actor: Actor, event: str, details: dict[str, str]) -> None:
    """An audit event of what a person did on the console as themselves (logins, exports)."""
    session.add(
        AuditEvent(
            entity="user",
            entity_id=actor.user_id or 0,
            event=event,
            details=details,
            **actor.recorded(),
        )
    )
