"""The console in a real browser: a headless Chromium driven through chromedriver (Selenium),
against a real ``bulkguard console serve`` on the test database.

What tests of a console page use (the fixtures live in tests/integration/conftest.py):

* ``console_server``: the server, started as an operator starts it, on a free port;
* ``browser``: a :class:`ConsolePage` on that server, a fresh browser profile per test;
* :func:`console_user`: a person of the test database who can log in, with a one-time password
  if asked;
* :class:`ConsolePage`: what a person does on a page (open it, fill and send a form, read the
  heading, the error, the flash message and the HTTP status) and what only a test does (drop a
  form's CSRF token, keep a screenshot under docs/console/).

A page test reads as what the person does::

    def test_a_reviewer_decides(browser: ConsolePage) -> None:
        console_user("rita", "reviewer")
        browser.login("rita", PASSWORD)
        browser.open("/reviews")
        browser.submit("/reviews/1/decide", {"outcome": "dismiss", "note": "a florist"})
        assert browser.flash() == "..."

Debian's ``chromium`` and ``chromium-driver`` are used (``make browser`` installs them); without
them these tests skip, except in CI (``BULKGUARD_REQUIRE_BROWSER``), where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.users import Role, find, set_password
from tests.people import ADMIN, PASSWORD, person
from workers.console.state import SESSION_COOKIE

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
WINDOW = (1280, 900)
PAGE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Chromium:
    browser: str
    driver: str


def chromium() -> Chromium:
    """Debian's chromium and its chromedriver; the test skips without them (fails in CI)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        missing = " and ".join(
            name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path
        )
        if os.environ.get("BULKGUARD_REQUIRE_BROWSER"):
            pytest.fail(f"{missing} required here (make browser installs them)")
        pytest.skip(f"no {missing}: `make browser` installs Debian's chromium and chromium-driver")
    return Chromium(browser, driver)


@contextmanager
def headless(found: Chromium) -> Iterator[WebDriver]:
    """A headless Chromium of ``WINDOW``'s size, with a profile of its own, quit afterwards."""
    options = webdriver.ChromeOptions()
    options.binary_location = found.browser
    options.add_argument("--headless=new")
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    for quiet in ("--no-first-run", "--disable-background-networking", "--disable-sync"):
        options.add_argument(quiet)
    if os.geteuid() == 0:
        # Chromium refuses to start its sandbox as root (containers, CI runners).
        options.add_argument("--no-sandbox")
    driver = webdriver.Chrome(options=options, service=Service(found.driver))
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    # The window's size includes the browser's own bars, even headless: grown by them, the
    # page itself gets WINDOW, as the screenshots do.
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * WINDOW[0] - inner[0], 2 * WINDOW[1] - inner[1])
    try:
        yield driver
    finally:
        driver.quit()


def console_user(name: str, *roles: Role, one_time: bool = False) -> str:
    """``name`` holding ``roles``, committed to the test database; the password to log in
    with. ``one_time``: an admin set it, so it must be replaced at the first login."""
    with session_scope() as session:
        person(session, name, *roles)
        if one_time:
            user = find(session, name)
            assert user is not None
            set_password(session, user, PASSWORD, by=person(session, ADMIN, "admin"), now=utcnow())
    return PASSWORD


@dataclass
class ConsolePage:
    """One person's browser on the console at ``base`` (ending in "/")."""

    driver: WebDriver
    base: str

    # --- where the browser is, and what it shows ----------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(self.base + path.lstrip("/"))

    @property
    def path(self) -> str:
        """The path of the page shown, with its query string."""
        shown = urlsplit(self.driver.current_url)
        return shown.path + (f"?{shown.query}" if shown.query else "")

    def status(self) -> int:
        """The HTTP status of the page shown (the last response of its navigation)."""
        found = self.driver.execute_script(
            "return performance.getEntriesByType('navigation')[0].responseStatus"
        )
        return int(found)

    def heading(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "main").text

    def error(self) -> str:
        """The page's error message ("" if none)."""
        return self._optional_text(".error")

    def flash(self) -> str:
        """The one-time message shown after a redirect ("" if none)."""
        return self._optional_text(".flash")

    def nav(self) -> list[str]:
        """The menu's links, as the person sees them."""
        return [link.text for link in self.driver.find_elements(By.CSS_SELECTOR, "header nav a")]

    def _optional_text(self, selector: str) -> str:
        found = self.driver.find_elements(By.CSS_SELECTOR, selector)
        return found[0].text if found else ""

    # --- what a person does ---------------------------------------------------------------

    def form(self, action: str) -> WebElement:
        """The form on this page that posts to ``action``."""
        return self.driver.find_element(By.CSS_SELECTOR, f'form[action="{action}"]')

    def field(self, action: str, name: str) -> str:
        """The value of the field ``name`` (hidden ones too) of the form that posts to
        ``action``: what the browser will send."""
        return self.form(action).find_element(By.NAME, name).get_attribute("value") or ""

    def submit(
        self, action: str, fields: Mapping[str, str] | None = None, *, press: str | None = None
    ) -> None:
        """Fill the form that posts to ``action`` (text fields by name, a select or a radio
        button by value) and press its submit button (the one whose value is ``press``, where a
        form has several); returns once the next page has loaded."""
        form = self.form(action)
        for name, value in (fields or {}).items():
            self._fill(form, name, value)
        button = "button[type=submit], input[type=submit]"
        if press is not None:
            button = f'button[type=submit][value="{press}"]'
        form.find_element(By.CSS_SELECTOR, button).click()
        self._await_next_page(form)

    def _await_next_page(self, old: WebElement) -> None:
        """Wait until ``old``, an element of the page that was sent, has gone with its page.

        Selenium's ``staleness_of`` lets any other driver error through; while Chromium swaps
        documents it can answer "Node with given id does not belong to the document" for an
        element that is about to be stale, so that answer means: look again."""

        def gone(driver: WebDriver) -> bool:
            try:
                old.is_enabled()
            except StaleElementReferenceException:
                return True
            except WebDriverException as error:
                if "does not belong to the document" not in (error.msg or ""):
                    raise
            return False

        WebDriverWait(self.driver, PAGE_TIMEOUT).until(gone)

    def _fill(self, form: WebElement, name: str, value: str) -> None:
        fields = form.find_elements(By.NAME, name)
        assert fields, f"no field {name!r} in the form"
        kind = fields[0].get_attribute("type")
        if kind in ("radio", "checkbox"):
            (chosen,) = [f for f in fields if f.get_attribute("value") == value]
            chosen.click()
        elif fields[0].tag_name == "select":
            fields[0].find_element(By.CSS_SELECTOR, f'option[value="{value}"]').click()
        else:
            fields[0].clear()
            fields[0].send_keys(value)

    def login(self, name: str, password: str) -> None:
        """Log in through the login form (opened first unless it is shown)."""
        if not self.path.startswith("/login"):
            self.open("/login")
        self.submit("/login", {"name": name, "password": password})

    def logout(self) -> None:
        self.submit("/logout")

    # --- what only a test does --------------------------------------------------------------

    def drop_csrf(self, action: str) -> None:
        """Remove the CSRF token from the form that posts to ``action``, as a forged form would
        lack it (the page has no script of its own: the browser's automation runs this)."""
        self.driver.execute_script(
            "arguments[0].querySelector('input[name=csrf]').remove()", self.form(action)
        )

    def forge(self, action: str, fields: Mapping[str, str]) -> None:
        """Post ``fields`` to ``action`` in a form this page does not offer, with this session's
        own CSRF token (from the page's logout form): what a person could send by hand, that
        only the route's own role check stops. Returns once the answer has loaded."""
        page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.execute_script(
            """
            const [action, fields] = arguments;
            const form = document.createElement("form");
            form.method = "post";
            form.action = action;
            const token = document.querySelector("input[name=csrf]").value;
            for (const [name, value] of Object.entries({...fields, csrf: token})) {
                const input = document.createElement("input");
                input.type = "hidden";
                input.name = name;
                input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
            """,
            action,
            dict(fields),
        )
        self._await_next_page(page)

    def session_cookie(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.driver.get_cookie(SESSION_COOKIE)
        return found

    def set_session_cookie(self, value: str) -> None:
        """Present ``value`` as the session cookie on the next requests."""
        self.driver.delete_cookie(SESSION_COOKIE)
        self.driver.add_cookie({"name": SESSION_COOKIE, "value": value, "path": "/"})

    def screenshot(self, name: str) -> Path:
        """The page as shown, kept as docs/console/``name``.png (``WINDOW``'s size): pictures
        of the pages for the documentation, taken from what the tests check."""
        # The text cursor would blink into some screenshots and not others.
        self.driver.execute_script("document.activeElement && document.activeElement.blur()")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        png = SCREENSHOTS / f"{name}.png"
        # Written aside, then renamed: parallel test workers may take the same picture at once.
        partial = png.with_name(f".{name}.{os.getpid()}.png")
        assert self.driver.save_screenshot(str(partial)), f"no screenshot of {self.path}"
        partial.replace(png)
        return png
