"""The models a worker process serves, loaded lazily after fork and swapped without a restart.

Which versions serve is read from the registry table at most every ``REFRESH_SECONDS``; a
version seen for the first time is loaded from disk in this process (never in the prefork
parent: XGBoost's OpenMP runtime does not survive fork).
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from infra.registry import model_path, serving_versions
from infra.settings import get_settings
from tasks.base import TransientError
from tasks.scoring.model import Scorer

REFRESH_SECONDS = 2.0

_loaded: dict[str, Scorer] = {}
_serving: tuple[Scorer, Scorer | None] | None = None
_checked_at = 0.0


class NoActiveModelError(TransientError):
    pass


def current_scorers(session: Session) -> tuple[Scorer, Scorer | None]:
    """The active scorer and the shadow one, if a shadow version is set."""
    global _serving, _checked_at  # noqa: PLW0603 - the per-process model cache
    now = time.monotonic()
    if _serving is not None and now - _checked_at < REFRESH_SECONDS:
        return _serving
    rows = serving_versions(session)
    if "active" not in rows:
        raise NoActiveModelError(
            "no model version is active: run `bulkguard train --activate` "
            "or `bulkguard model activate VERSION`"
        )
    settings = get_settings()
    for row in rows.values():
        if row.version not in _loaded:
            _loaded[row.version] = Scorer.load(
                row.version, model_path(settings.models_dir, row), row.card, settings.model_threads
            )
    # Forget retired versions so a long-lived worker does not accumulate boosters.
    for version in list(_loaded):
        if version not in {row.version for row in rows.values()}:
            del _loaded[version]
    shadow = rows.get("shadow")
    _serving = (_loaded[rows["active"].version], _loaded[shadow.version] if shadow else None)
    _checked_at = now
    return _serving
