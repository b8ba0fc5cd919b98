"""Which claim model reads documents in this process: the registry's active evidence model, loaded
once per process and swapped without a restart, or none (the rules read).

The reading package takes the model as an argument and never reads the registry; the ingest's
task shell, ``bulkguard evidence analyze`` and the pages that show a document's passages call
this module and pass the model in. A worker loads it after fork, on its first document; which
version is active is read again at most every ``REFRESH_SECONDS``. The model file comes from the
registry table through the host's disk cache, checked against its SHA-256 (``infra.registry``);
it is JSON, parsed as data.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from sqlalchemy.orm import Session

from infra.db.models import ModelVersion
from infra.registry import local_model_file, serving_versions
from infra.settings import get_settings
from tasks.evidence.reading.analysis import RULES
from tasks.evidence.reading.claim_model import ClaimModel

REFRESH_SECONDS = 2.0
CACHED_VERSIONS = 3

_loaded: OrderedDict[str, ClaimModel] = OrderedDict()
_active: ClaimModel | None = None
_checked_at: float | None = None


def active_model(session: Session) -> ClaimModel | None:
    """The active evidence model, or None when none is active (the rules read)."""
    global _active, _checked_at  # noqa: PLW0603 - the per-process model cache
    now = time.monotonic()
    if _checked_at is not None and now - _checked_at < REFRESH_SECONDS:
        return _active
    row = serving_versions(session, "evidence").get("active")
    _active = None if row is None else _load(session, row)
    _checked_at = now
    return _active


def model_for(session: Session, reader: str | None) -> ClaimModel | None:
    """The model that read a document, by the name recorded with it: None for the rules (or a
    reading recorded before models read, or by a version no longer registered)."""
    if reader is None or reader == RULES:
        return None
    if reader in _loaded:
        _loaded.move_to_end(reader)
        return _loaded[reader]
    row = session.get(ModelVersion, reader)
    if row is None or row.kind != "evidence":
        return None
    return _load(session, row)


def _load(session: Session, row: ModelVersion) -> ClaimModel:
    model = _loaded.get(row.version)
    if model is None:
        path = local_model_file(session, get_settings().models_dir, row)
        model = ClaimModel.from_json(path.read_bytes())
        _loaded[row.version] = model
        while len(_loaded) > CACHED_VERSIONS:
            _loaded.popitem(last=False)
    _loaded.move_to_end(row.version)
    return model
