"""What a stage body returns: what it decided, for its task shell to commit and publish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.dead_letters import Rejection
from tasks.messages import FollowUp


@dataclass
class Outcome:
    """A stage body's decisions beyond the rows it wrote in its session.

    ``summary`` is the task's result (small JSON, shown in Flower); ``follow_ups`` go to the
    outbox in the same transaction; ``rejected`` input is kept as dead letters in it too;
    ``after_commit`` effects outside the database (a Redis counter) run only once the transaction
    has committed, so a rolled-back run leaves no trace there.
    """

    summary: dict[str, Any]
    follow_ups: list[FollowUp] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
