"""The models a worker process serves, loaded lazily after fork and swapped without a restart.

Which versions serve is read from the registry table at most every ``REFRESH_SECONDS``; a
version seen for the first time is loaded in this process from its file on this host (written
from the registry table when missing) (never in the prefork
parent: XGBoost's OpenMP runtime does not survive fork). Enforcement also loads the exact
version that scored an account, to explain its decision, so a few recent versions stay cached.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from sqlalchemy.orm import Session

from infra.db.models import ModelVersion
from infra.registry import activated_by, local_model_file, serving_versions
from infra.settings import get_settings
from tasks.errors import TransientError
from tasks.scoring.model import Scorer

REFRESH_SECONDS = 2.0
CACHED_VERSIONS = 4

log = logging.getLogger(__name__)

_loaded: OrderedDict[str, Scorer] = OrderedDict()
_serving: tuple[Scorer, Scorer | None] | None = None
_checked_at = 0.0


class NoActiveModelError(TransientError):
    def __init__(self) -> None:
        super().__init__(
            "no model version is active: run `bulkguard train --activate` "
            "or `bulkguard model activate VERSION`"
        )


def current_scorers(session: Session) -> tuple[Scorer, Scorer | None]:
    """The active scorer and the shadow one, if a shadow version is set."""
    global _serving, _checked_at  # noqa: PLW0603 - the per-process model cache
    now = time.monotonic()
    if _serving is not None and now - _checked_at < REFRESH_SECONDS:
        return _serving
    rows = serving_versions(session)
    if "active" not in rows:
        raise NoActiveModelError
    shadow = rows.get("shadow")
    before = _serving
    _serving = (_load(session, rows["active"]), _load(session, shadow) if shadow else None)
    _checked_at = now
    _log_switches(session, before, _serving)
    return _serving


def _log_switches(
    session: Session,
    before: tuple[Scorer, Scorer | None] | None,
    after: tuple[Scorer, Scorer | None],
) -> None:
    """One line per role whose version this process now serves differently: the old and new
    version and who activated it, so a change of behaviour in the logs has its cause beside it."""
    for role, old, new in (
        ("active", before[0] if before else None, after[0]),
        ("shadow", before[1] if before else None, after[1]),
    ):
        old_version = old.version if old else None
        new_version = new.version if new else None
        if old_version == new_version:
            continue
        who = activated_by(session, new_version) if role == "active" and new_version else None
        log.info(
            "model switch: %s model %s -> %s (activated by %s)",
            role,
            old_version or "none",
            new_version or "none",
            who or "unrecorded",
        )


def active_scorer(session: Session) -> Scorer:
    """The active model as the registry says now, past the per-process cache: for one-shot
    tools, which must not act on a role read seconds ago."""
    active = serving_versions(session).get("active")
    if active is None:
        raise NoActiveModelError
    return _load(session, active)


def scorer_for(session: Session, version: str) -> Scorer:
    """The scorer of a given registered version, active or not."""
    if version in _loaded:
        _loaded.move_to_end(version)
        return _loaded[version]
    row = session.get(ModelVersion, version)
    if row is None:
        raise LookupError(f"model version {version!r} is not registered")
    if row.kind != "account":
        raise LookupError(f"model version {version!r} reads {row.kind}, it scores no accounts")
    return _load(session, row)


def _load(session: Session, row: ModelVersion) -> Scorer:
    scorer = _loaded.get(row.version)
    if scorer is None:
        settings = get_settings()
        path = local_model_file(session, settings.models_dir, row)
        scorer = Scorer.load(row.version, path, row.card, settings.model_threads)
        _loaded[row.version] = scorer
        # Forget the least recently used versions so a long-lived worker stays flat.
        while len(_loaded) > CACHED_VERSIONS:
            _loaded.popitem(last=False)
    _loaded.move_to_end(row.version)
    return scorer
