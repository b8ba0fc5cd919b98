"""HTTP basic authentication for the operator endpoints (metrics, Flower): one check, in constant
time, applied to every path a server answers."""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass

REALM = "bulkguard"


@dataclass(frozen=True)
class BasicAuth:
    user: str
    password: str

    def __post_init__(self) -> None:
        if not self.user or not self.password:
            raise ValueError("basic authentication needs both a user name and a password")
        if ":" in self.user:
            raise ValueError("a basic-auth user name cannot contain ':'")

    @property
    def header(self) -> str:
        """The ``Authorization`` header a client sends with these credentials."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def accepts(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries these credentials."""
        return hmac.compare_digest((authorization or "").encode(), self.header.encode())


CHALLENGE = ("WWW-Authenticate", f'Basic realm="{REALM}"')
