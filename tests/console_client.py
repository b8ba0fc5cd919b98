"""A console in the test process (the same application ``bulkguard console serve`` runs), with
a client that logs in as a real user of the test database and reads forms' CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from infra.settings import get_settings
from tests.broker import Broker
from workers.console.app import build

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Console(TestClient):
    """A browser-less visitor of the console."""

    def csrf(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        found = CSRF.search(page.text)
        assert found, f"no form on {path}"
        return found.group(1)

    def login(self, name: str, password: str, *, expect: int = 303) -> Any:
        response = self.post(
            "/login",
            data={"name": name, "password": password, "csrf": self.csrf("/login"), "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == expect, response.text
        return response

    def submit(self, path: str, data: dict[str, str], *, form_at: str | None = None) -> Any:
        """Post ``data`` to ``path`` with the CSRF token of the page ``form_at`` (or ``path``)."""
        token = self.csrf(form_at or path)
        return self.post(path, data={**data, "csrf": token}, follow_redirects=False)


def console(broker: Broker | None = None) -> Console:
    return Console(build(get_settings(), publisher=broker or Broker()))
