"""Behind a reverse proxy, on real servers: the console and the api take the client's address
(X-Forwarded-For) and scheme (X-Forwarded-Proto) from the proxies BULKGUARD_TRUSTED_PROXIES
names, and from nobody else. What rides on them: the per-address throttles of failed logins and
of bad api keys, and the console's Secure cookies."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from workers.harness.processes import ConsoleProcess, start_api, start_console, stop_console

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# The proxy in these tests is the test itself, on loopback.
BEHIND_A_PROXY = {"BULKGUARD_TRUSTED_PROXIES": "127.0.0.1"}
# The database plays no part in what a server reads from its proxy.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@contextmanager
def _console(env: Mapping[str, str], log: Path, extra: Mapping[str, str]) -> Iterator[str]:
    # Two failed logins from one address hold it up; a user alone needs five.
    server = start_console({**env, "BULKGUARD_CONSOLE_FAILURES_PER_ADDRESS": "2", **extra}, log)
    try:
        yield server.url
    finally:
        stop_console(server)


def _visitor(url: str, forwarded_for: str | None = None, proto: str | None = None) -> httpx.Client:
    headers = {}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    if proto is not None:
        headers["X-Forwarded-Proto"] = proto
    return httpx.Client(base_url=url, headers=headers, trust_env=False, timeout=30)


def _failed_login(url: str, name: str, forwarded_for: str) -> int:
    """A wrong password for ``name`` from ``forwarded_for``: the answer's status."""
    with _visitor(url, forwarded_for) as client:
        page = client.get("/login")
        token = CSRF.search(page.text)
        assert token, page.text
        return client.post(
            "/login",
            data={"name": name, "password": "not the password", "csrf": token.group(1)},
        ).status_code


def _login_cookie(url: str, proto: str) -> str:
    with _visitor(url, proto=proto) as client:
        return client.get("/login").headers["set-cookie"]


@sqlite_only
def test_the_console_reads_the_client_from_its_proxy_only(
    env: dict[str, str], tmp_path: Path
) -> None:
    with _console(env, tmp_path / "proxied.log", BEHIND_A_PROXY) as url:
        # The proxy appends the address it saw; what a client wrote before it counts for nothing.
        assert _failed_login(url, "ann", "198.51.100.1, 203.0.113.7") != 429
        assert _failed_login(url, "bob", "198.51.100.2, 203.0.113.7") != 429
        assert _failed_login(url, "cat", "203.0.113.7") == 429  # that address is held up
        assert _failed_login(url, "dan", "203.0.113.8") != 429  # another client is not
        # TLS ended at the proxy: the cookies are Secure all the same.
        assert "secure" in _login_cookie(url, "https").lower()
        assert "secure" not in _login_cookie(url, "http").lower()

    with _console(env, tmp_path / "direct.log", {}) as url:
        # No proxy trusted: the headers are a client's claims, and every one of these visitors
        # is the loopback address they connect from.
        assert _failed_login(url, "ann", "203.0.113.7") != 429
        assert _failed_login(url, "bob", "203.0.113.8") != 429
        assert _failed_login(url, "cat", "203.0.113.9") == 429
        assert "secure" not in _login_cookie(url, "https").lower()


def _bad_keys_until_held_up(api: ConsoleProcess, forwarded_for: str) -> list[int]:
    """Requests with a wrong api key from ``forwarded_for`` until one is answered 429 (the
    per-address bucket holds 20), or 40 were sent."""
    statuses: list[int] = []
    with _visitor(api.url, forwarded_for) as client:
        while len(statuses) < 40 and 429 not in statuses:
            statuses.append(
                client.get(
                    "/v1/batches/x", headers={"Authorization": "Bearer not-a-key"}
                ).status_code
            )
    return statuses


@sqlite_only
def test_the_api_throttles_bad_keys_per_client_behind_its_proxy(
    env: dict[str, str], tmp_path: Path
) -> None:
    api = start_api({**env, **BEHIND_A_PROXY}, tmp_path / "api.log")
    try:
        statuses = _bad_keys_until_held_up(api, "203.0.113.7")
        assert statuses[-1] == 429, statuses
        assert set(statuses[:-1]) == {401}, statuses
        # Another client behind the same proxy still gets its own answer.
        assert _bad_keys_until_held_up(api, "203.0.113.8")[0] == 401
    finally:
        stop_console(api)
