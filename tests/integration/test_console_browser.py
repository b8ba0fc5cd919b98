"""The console's front door in a real browser (headless Chromium through chromedriver) against
``bulkguard console serve``: logging in and out, a wrong password, throttling, a one-time
password, a session ended on the server, forms without their CSRF token, and a route another
role's. The login and overview screenshots under docs/console/ are taken here."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from infra.db.models import ConsoleSession, utcnow
from infra.db.session import session_scope
from tests.integration.browser import ConsolePage, console_user
from tests.people import PASSWORD
from workers.harness.console_data import seed_console_data

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NEW = "my own passphrase, long enough"


def test_a_reviewer_logs_in_through_the_form_and_lands_on_the_overview(
    browser: ConsolePage,
) -> None:
    console_user("rita", "reviewer")
    with session_scope() as session:  # something waiting, for the overview's screenshot
        seed_console_data(session, accounts=200, reviews=12, notices=3, now=utcnow())
    browser.open("/")
    assert browser.path == "/login?next=/"
    assert browser.heading() == "Log in"
    browser.screenshot("login")

    browser.login("rita", PASSWORD)
    assert (browser.path, browser.status()) == ("/", 200)
    assert browser.heading() == "Overview"
    waiting = browser.driver.find_element("css selector", ".card dl").text
    assert "Review cases\n12 (oldest 0.2 h)" in waiting
    assert "Notices for counsel\n3" in waiting
    assert "rita (reviewer)" in browser.driver.find_element("css selector", "header .who").text
    # A reviewer's menu: their queues, the companies, nothing of counsel's.
    assert browser.nav() == ["Overview", "Review queue", "Appeals", "Evidence triage", "Companies"]
    cookie = browser.session_cookie()
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    browser.screenshot("overview")


@sqlite_only
def test_a_wrong_password_is_shown_as_an_error(browser: ConsolePage) -> None:
    console_user("rita", "reviewer")
    browser.login("rita", "not the password")
    assert (browser.path, browser.status()) == ("/login", 401)
    assert browser.error() == "Unknown user, or wrong password."
    assert browser.session_cookie() is None
    # The form is shown again, and works.
    browser.login("rita", PASSWORD)
    assert browser.heading() == "Overview"


@sqlite_only
def test_repeated_wrong_passwords_are_throttled(browser: ConsolePage) -> None:
    console_user("rita", "reviewer")
    for _ in range(5):  # BULKGUARD_CONSOLE_FAILURES_PER_USER's default
        browser.login("rita", "not the password")
        assert browser.status() == 401
    # Now even the right password waits.
    browser.login("rita", PASSWORD)
    assert (browser.path, browser.status()) == ("/login", 429)
    assert browser.error().startswith("Too many failed logins for this user or from this address")
    assert browser.session_cookie() is None


@sqlite_only
def test_a_one_time_password_leads_to_the_password_page_first(browser: ConsolePage) -> None:
    console_user("carl", "counsel", one_time=True)
    browser.login("carl", PASSWORD)
    assert (browser.path, browser.heading()) == ("/password", "Choose your password")
    browser.open("/")  # nothing else until it is replaced
    assert browser.path == "/password"
    browser.submit(
        "/password", {"current_password": PASSWORD, "new_password": NEW, "repeated": NEW}
    )
    assert (browser.path, browser.heading()) == ("/", "Overview")
    assert browser.flash() == "Password changed."
    browser.logout()
    browser.login("carl", NEW)
    assert browser.heading() == "Overview"


@sqlite_only
def test_after_logout_back_and_reload_show_the_login_and_the_old_cookie_is_refused(
    browser: ConsolePage,
) -> None:
    console_user("rita", "reviewer")
    browser.login("rita", PASSWORD)
    assert browser.heading() == "Overview"
    cookie = browser.session_cookie()
    assert cookie is not None
    browser.logout()
    assert (browser.path, browser.heading()) == ("/login", "Log in")

    # Pages are never cached: going back asks the server, which sends the browser to log in.
    browser.driver.back()
    assert (browser.path, browser.heading()) == ("/login?next=/", "Log in")
    browser.driver.refresh()
    assert (browser.path, browser.heading()) == ("/login?next=/", "Log in")

    # The old cookie, presented again, is refused: the server ended the session.
    browser.set_session_cookie(cookie["value"])
    browser.open("/")
    assert (browser.path, browser.heading()) == ("/login?next=/", "Log in")
    with session_scope() as session:
        (ended,) = session.scalars(select(ConsoleSession)).all()
        assert ended.ended_why == "logout"


@sqlite_only
def test_a_form_sent_without_its_csrf_token_is_refused(browser: ConsolePage) -> None:
    console_user("rita", "reviewer")
    browser.open("/login")
    browser.drop_csrf("/login")
    browser.submit("/login", {"name": "rita", "password": PASSWORD})
    assert (browser.status(), browser.error()) == (403, "The login form expired: try again.")
    assert browser.session_cookie() is None

    browser.login("rita", PASSWORD)
    browser.drop_csrf("/logout")
    browser.logout()
    assert browser.status() == 403
    assert browser.heading() == "Not yours to see"
    assert "not sent from this session's page" in browser.error()
    # Still logged in: the forged logout did nothing.
    browser.open("/")
    assert (browser.path, browser.heading()) == ("/", "Overview")


@sqlite_only
def test_a_reviewer_opening_counsels_notices_gets_403(browser: ConsolePage) -> None:
    console_user("rita", "reviewer")
    browser.login("rita", PASSWORD)
    assert "Notices" not in browser.nav()
    browser.open("/notices")
    assert (browser.status(), browser.heading()) == (403, "Not yours to see")
    assert "counsel" in browser.error()
