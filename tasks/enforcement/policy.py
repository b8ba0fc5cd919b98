"""Which action a decision leads to, given what is already in force."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Mode = Literal["enforce", "shadow"]

# The decisions that lead to an action of the same name.
ACTIONABLE = frozenset({"ban", "restrict", "review"})


@dataclass(frozen=True)
class Candidate:
    score_id: int
    account_id: str
    decision: str
    account_status: str  # active | restricted | banned


@dataclass(frozen=True)
class PlannedAction:
    score_id: int
    account_id: str
    action: str
    status: str  # active | shadow | pending


def plan(candidates: Iterable[Candidate], mode: Mode) -> list[PlannedAction]:
    """Turn decisions into actions. Banned accounts get nothing more; restriction never
    downgrades a ban; in shadow mode every action is recorded but none is put in force."""
    planned = []
    for c in candidates:
        action = c.decision
        if action not in ACTIONABLE or c.account_status == "banned":
            continue
        if action == "restrict" and c.account_status == "restricted":
            continue
        status = "pending" if action == "review" else "shadow" if mode == "shadow" else "active"
        planned.append(PlannedAction(c.score_id, c.account_id, action, status))
    return planned


def account_status_after(action: str) -> str:
    return {"ban": "banned", "restrict": "restricted"}[action]
