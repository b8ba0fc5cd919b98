"""The console's front door on a real database and Redis: login, sessions ended server-side,
one-time passwords, CSRF, throttling, role checks on routes, security headers and bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from infra.db.models import ConsoleSession, utcnow
from infra.db.session import session_scope
from infra.users import (
    NotAllowedError,
    authenticate_token,
    create_user,
    find,
    get,
    issue_token,
    set_password,
)
from tests.console_client import console
from tests.people import PASSWORD, person

NEW = "my own passphrase, long enough"


def add(name: str, *roles: str, expired: bool = False) -> None:
    with session_scope() as session:
        person(session, name, *roles)  # type: ignore[arg-type]
        if expired:
            user = find(session, name)
            assert user is not None
            set_password(session, user, PASSWORD, by=person(session, "root", "admin"), now=utcnow())


def test_login_logout_and_a_session_ended_on_the_server(env: dict[str, str]) -> None:
    add("alice", "reviewer")
    with console() as browser:
        assert browser.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
        logged_in = browser.login("alice", PASSWORD)
        assert logged_in.headers["location"] == "/"
        cookie = logged_in.cookies["bulkguard_session"]
        assert "httponly" in logged_in.headers["set-cookie"].lower()
        assert "samesite=strict" in logged_in.headers["set-cookie"].lower()
        page = browser.get("/")
        assert page.status_code == 200
        assert "Review cases" in page.text
        token = browser.csrf("/")
        assert (
            browser.post("/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
        )
    # The same cookie again, after logout: the server ended the session.
    with console() as replayed:
        replayed.cookies.set("bulkguard_session", cookie)
        assert replayed.get("/", follow_redirects=False).status_code == 303
        refused = replayed.post("/logout", data={"csrf": token}, follow_redirects=False)
        assert refused.status_code == 401
    with session_scope() as session:
        (row,) = session.scalars(select(ConsoleSession)).all()
        assert row.ended_why == "logout"


def test_a_password_reset_by_an_admin_ends_the_users_sessions_and_token(
    env: dict[str, str],
) -> None:
    add("alice", "reviewer")
    with console() as browser:
        browser.login("alice", PASSWORD)
        with session_scope() as session:
            token = issue_token(session, get(session, "alice"), by=None, now=utcnow())
        assert browser.get("/").status_code == 200
        # Her password was lost or stolen: an admin sets a one-time one.
        with session_scope() as session:
            root = person(session, "root", "admin")
            set_password(session, get(session, "alice"), NEW, by=root, now=utcnow())
        assert browser.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    with session_scope() as session:
        (row,) = session.scalars(select(ConsoleSession)).all()
        assert row.ended_why == "password_reset"
        with pytest.raises(NotAllowedError):
            authenticate_token(session, "alice", token, channel="cli", now=utcnow())


def test_a_form_without_its_token_is_refused(env: dict[str, str]) -> None:
    add("alice", "reviewer")
    with console() as browser:
        no_token = browser.post(
            "/login", data={"name": "alice", "password": PASSWORD}, follow_redirects=False
        )
        assert no_token.status_code == 403
        browser.login("alice", PASSWORD)
        assert browser.post("/logout", data={}, follow_redirects=False).status_code == 403
        assert browser.post("/logout", data={"csrf": "0" * 64}).status_code == 403
        assert browser.get("/").status_code == 200  # still logged in


def test_wrong_passwords_are_throttled_per_user(env: dict[str, str]) -> None:
    add("alice", "reviewer")
    with console() as browser:
        for _ in range(5):
            browser.login("alice", "not the password", expect=401)
        throttled = browser.login("alice", PASSWORD, expect=429)
        assert "Too many failed logins" in throttled.text
        # Another user from another address is not held up by alice's attempts.
    add("bob", "reviewer")
    with console() as other:
        other.login("bob", PASSWORD)


def test_a_one_time_password_must_be_replaced_first(env: dict[str, str]) -> None:
    add("carol", "counsel", expired=True)
    with console() as browser:
        browser.login("carol", PASSWORD)
        assert browser.get("/", follow_redirects=False).headers["location"] == "/password"
        same = browser.submit(
            "/password",
            {"current_password": PASSWORD, "new_password": PASSWORD, "repeated": PASSWORD},
        )
        assert same.status_code == 400
        changed = browser.submit(
            "/password", {"current_password": PASSWORD, "new_password": NEW, "repeated": NEW}
        )
        assert changed.status_code == 303
        assert "Password changed." in browser.get("/").text


def test_roles_are_checked_on_routes_and_errors_show_no_internals(env: dict[str, str]) -> None:
    with session_scope() as session:
        create_user(session, "dave", roles=["reviewer"], by=None, now=utcnow(), password=PASSWORD)
    with console() as browser:
        browser.login("dave", PASSWORD)
        page = browser.get("/")
        for header in ("content-security-policy", "x-frame-options", "x-content-type-options"):
            assert header in page.headers
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "unsafe-inline" not in page.headers["content-security-policy"]
        missing = browser.get("/no/such/page")
        assert missing.status_code == 404
        assert "Traceback" not in missing.text
        huge = browser.post("/logout", content=b"csrf=" + b"x" * 100_000)
        assert huge.status_code == 413
