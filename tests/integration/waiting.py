"""Helpers of the worker tests: waiting for a condition, counting rows."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select

from infra.db.session import session_scope
from tasks.scoring.decisions import scored_accounts


def count(model: Any, *where: Any) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def scored(account_ids: Sequence[str], model_version: str) -> int:
    """How many of ``account_ids`` ``model_version`` decided on, however many times each."""
    with session_scope() as session:
        return scored_accounts(session, account_ids, model_version)


def wait_for(predicate: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
