"""What the command groups share: the console for what is not a command's result, and the
credentials an operator-facing service demands."""

from __future__ import annotations

import click
from pydantic import SecretStr
from rich.console import Console

from infra.basic_auth import BasicAuth

# Progress, counts and explanations go to stderr: stdout carries a command's result.
console = Console(stderr=True)


def operator_auth(user: str | None, password: SecretStr | None, kind: str) -> BasicAuth:
    """The credentials ``BULKGUARD_<kind>_USER`` and ``_PASSWORD`` give, or the command stops."""
    secret = password.get_secret_value() if password else ""
    if not user or not secret:
        raise click.ClickException(
            f"set BULKGUARD_{kind}_USER and BULKGUARD_{kind}_PASSWORD: it shows how enforcement "
            "runs and is never served without authentication"
        )
    try:
        return BasicAuth(user, secret)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
