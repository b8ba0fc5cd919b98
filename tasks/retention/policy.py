"""The retention policy: a period and a reason per data class, read from reviewed data."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_POLICY = Path(__file__).parent / "data" / "policy.toml"

# Every class the policy must give a period, in the order a run deletes them: a class deletes
# rows that earlier ones may have left without dependants (labels before their actions, actions
# before their audit trail and their scores' snapshots, everything before the accounts).
CLASSES = (
    "dead_letters",
    "api_answers",
    "deliveries",
    "labels",
    "actions",
    "documents",
    "audit_events",
    "allowed_decisions",
    "snapshots",
    "accounts",
    "log_references",
)


class RetentionPolicyError(ValueError):
    """A policy file that cannot be used, with what is wrong in it."""


@dataclass(frozen=True)
class Period:
    data_class: str
    days: int
    reason: str
    # Who deletes it when bulkguard cannot (the log store): None for the database's classes.
    enforced_by: str | None = None

    def cutoff(self, now: dt.datetime) -> dt.datetime:
        """Rows of this class from before this moment have expired."""
        return now - dt.timedelta(days=self.days)


@dataclass(frozen=True)
class RetentionPolicy:
    version: str
    periods: dict[str, Period]

    def __getitem__(self, data_class: str) -> Period:
        return self.periods[data_class]


def load(path: Path = DEFAULT_POLICY) -> RetentionPolicy:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RetentionPolicyError(f"{path}: {exc}") from None
    return parse(data, where=str(path))


def parse(data: dict[str, Any], *, where: str = "policy") -> RetentionPolicy:
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise RetentionPolicyError(f"{where}: `version` must be a non-empty string")
    classes = data.get("classes")
    if not isinstance(classes, dict):
        raise RetentionPolicyError(f"{where}: no [classes.*] tables")
    unknown = sorted(set(classes) - set(CLASSES))
    missing = [c for c in CLASSES if c not in classes]
    if unknown or missing:
        raise RetentionPolicyError(
            f"{where}: every data class needs a period, and only those: "
            f"missing {missing or 'none'}, unknown {unknown or 'none'}"
        )
    periods = {}
    for name in CLASSES:
        entry = classes[name]
        days, reason = entry.get("days"), entry.get("reason")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise RetentionPolicyError(f"{where}: classes.{name}.days must be a whole number >= 1")
        if not isinstance(reason, str) or not reason.strip():
            raise RetentionPolicyError(f"{where}: classes.{name}.reason must say why")
        enforced_by = entry.get("enforced_by")
        periods[name] = Period(name, days, " ".join(reason.split()), enforced_by)
    if periods["labels"].days > periods["actions"].days:
        # A label refers to its action: it cannot be kept once the action is gone.
        raise RetentionPolicyError(f"{where}: labels cannot be kept longer than actions")
    return RetentionPolicy(version, periods)
