"""The enforcement policy: which action a scored account gets, read from a reviewed file.

The model places a score in a band by its stage's thresholds; the policy maps the detection
point, the band and named signals of the record to an action. Restrictions are temporary and
grow with each repeat within a lookback (``[restrictions] ladder_days``); past the last step the
account is banned. The rules here are pure: the caller says what is already in force and how
many restrictions the account had.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from tasks.accounts.signals import AccountSignals, DetectionPoint

Mode = Literal["enforce", "shadow"]
Band = Literal["review", "restrict", "ban"]
BANDS = frozenset(("review", "restrict", "ban"))
ActionName = Literal["allow", "review", "restrict", "ban"]

# Named facts of a scored record that a rule may require, all of them at once.
SIGNALS: dict[str, Callable[[AccountSignals], bool]] = {
    "modified_client": lambda r: r.registration.client == "modified",
    "web_client": lambda r: r.registration.client == "web",
    "business_client": lambda r: r.registration.client == "business",
    "business_profile": lambda r: r.business is not None,
    "reported": lambda r: r.feedback is not None and r.feedback.reports > 0,
}
SignalName = Literal[
    "modified_client", "web_client", "business_client", "business_profile", "reported"
]

# Stronger actions first: one account gets at most one action per batch, the strongest.
SEVERITY = {"ban": 3, "restrict": 2, "review": 1, "allow": 0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,47}$")]
    # Empty: every detection point.
    stages: tuple[DetectionPoint, ...] = ()
    bands: Annotated[tuple[Band, ...], Field(min_length=1)]
    signals: tuple[SignalName, ...] = ()
    action: ActionName

    def matches(self, stage: DetectionPoint, band: str, signals: frozenset[str]) -> bool:
        return (
            (not self.stages or stage in self.stages)
            and band in self.bands
            and signals.issuperset(self.signals)
        )


class Restrictions(_Strict):
    # Days of the first, second, ... restriction within the lookback; one more is a ban.
    ladder_days: Annotated[tuple[Annotated[int, Field(ge=1, le=3650)], ...], Field(min_length=1)]
    lookback_days: int = Field(default=365, ge=1, le=3650)


class Reviews(_Strict):
    expire_after_days: float = Field(default=14, gt=0, le=365)


class Policy(_Strict):
    version: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    rules: Annotated[tuple[Rule, ...], Field(min_length=1)]
    restrictions: Restrictions
    reviews: Reviews = Reviews()

    def decide(self, stage: DetectionPoint, band: str, signals: frozenset[str]) -> Rule | None:
        """The first rule that matches, or none (the band's own action applies)."""
        return next((r for r in self.rules if r.matches(stage, band, signals)), None)


class PolicyError(ValueError):
    """A policy file that cannot be used, with every problem named."""


def parse(text: str, source: str) -> Policy:
    """The policy in TOML ``text``; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from exc
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise PolicyError(f"{source}: {problems}") from exc
    names = [r.name for r in policy.rules]
    if len(set(names)) != len(names):
        raise PolicyError(f"{source}: rule names must be unique (an action names its rule)")
    return policy


def signals_of(record: AccountSignals) -> frozenset[str]:
    return frozenset(name for name, holds in SIGNALS.items() if holds(record))


@dataclass(frozen=True)
class Candidate:
    score_id: int
    account_id: str
    stage: DetectionPoint
    band: str  # the model's decision: review | restrict | ban
    account_status: str  # active | restricted | banned
    signals: frozenset[str]
    # Restrictions of the account within the policy's lookback (in force, expired or decided).
    past_restrictions: int


@dataclass(frozen=True)
class PlannedAction:
    score_id: int
    account_id: str
    action: str
    status: str  # active | shadow | pending
    rule: str
    term_days: int | None  # a restriction's length; None for a ban or a review


def plan(policy: Policy, candidates: Iterable[Candidate], mode: Mode) -> list[PlannedAction]:
    """Turn scores into actions. A banned account gets nothing more, a restricted one nothing
    less than a ban; each account gets one action per call, the strongest; in shadow mode every
    action is recorded but none is put in force."""
    strongest: dict[str, PlannedAction] = {}
    for c in candidates:
        planned = _plan_one(policy, c, mode)
        held = strongest.get(c.account_id)
        if planned is not None and (
            held is None or SEVERITY[planned.action] > SEVERITY[held.action]
        ):
            strongest[c.account_id] = planned
    return sorted(strongest.values(), key=lambda p: p.score_id)


def _plan_one(policy: Policy, c: Candidate, mode: Mode) -> PlannedAction | None:
    if c.account_status == "banned" or c.band not in BANDS:
        return None
    rule = policy.decide(c.stage, c.band, c.signals)
    action, rule_name = (rule.action, rule.name) if rule else (c.band, f"band:{c.band}")
    term = None
    if action == "restrict":
        if c.account_status == "restricted":
            return None  # already restricted: the term in force runs its course
        term, escalated = restriction_term(policy.restrictions, c.past_restrictions)
        if escalated:
            action, rule_name = "ban", f"{rule_name}:repeat"
    if action == "allow":
        return None
    status = "pending" if action == "review" else "shadow" if mode == "shadow" else "active"
    return PlannedAction(c.score_id, c.account_id, action, status, rule_name, term)


def restriction_term(restrictions: Restrictions, past: int) -> tuple[int | None, bool]:
    """(days, escalated): the length of the next restriction after ``past`` ones, or a ban
    when the ladder is used up."""
    ladder: Sequence[int] = restrictions.ladder_days
    if past >= len(ladder):
        return None, True
    return ladder[past], False


def account_status_after(action: str) -> str:
    return {"ban": "banned", "restrict": "restricted"}[action]
