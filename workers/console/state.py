"""What every console request shares: settings, the session secret and limits, the login
throttle, the templates, and the publisher decisions' follow-ups go through."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeTimedSerializer

from infra.settings import Settings
from tasks.messages import Publisher
from workers.console.sessions import Limits
from workers.console.throttle import Throttle

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "bulkguard_session"
FLASH_COOKIE = "bulkguard_flash"


@dataclass
class ConsoleState:
    settings: Settings
    secret: str
    limits: Limits
    throttle: Throttle
    templates: Jinja2Templates
    publisher: Publisher

    @property
    def signer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt="bulkguard-console")

    def sign(self, value: Any) -> str:
        return self.signer.dumps(value)

    def unsign(self, value: str | None, max_age: dt.timedelta) -> Any:
        """The signed ``value`` if it is authentic and younger than ``max_age``; else None."""
        if not value:
            return None
        try:
            return self.signer.loads(value, max_age=int(max_age.total_seconds()))
        except BadSignature:
            return None


def state_of(request: Request) -> ConsoleState:
    found: ConsoleState = request.app.state.console
    return found
