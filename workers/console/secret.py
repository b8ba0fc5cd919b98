"""The key console sessions are signed with: the deployment's own (``BULKGUARD_CONSOLE_SECRET``),
or one made on first start and kept under the data directory, readable by its owner only."""

from __future__ import annotations

import os
import secrets

from infra.settings import Settings


def session_secret(settings: Settings) -> str:
    if settings.console_secret is not None:
        configured = settings.console_secret.get_secret_value()
        if len(configured) < 32:
            raise ValueError("BULKGUARD_CONSOLE_SECRET must have at least 32 characters")
        return configured
    path = settings.console_secret_path
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    made = secrets.token_urlsafe(48)
    # Created private and exclusively: two consoles starting at once keep the first one's.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as out:
        out.write(made + "\n")
    return made
