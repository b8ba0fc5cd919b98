"""Which action each decision leads to."""

from __future__ import annotations

import pytest

from tasks.enforcement.policy import Candidate, PlannedAction, account_status_after, plan


def one(decision: str, status: str = "active", mode: str = "enforce") -> list[PlannedAction]:
    return plan([Candidate(7, "acc-7", decision, status)], mode)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("decision", "action", "status"),
    [("ban", "ban", "active"), ("restrict", "restrict", "active"), ("review", "review", "pending")],
)
def test_each_actionable_decision_on_an_active_account(
    decision: str, action: str, status: str
) -> None:
    assert one(decision) == [PlannedAction(7, "acc-7", action, status)]


@pytest.mark.parametrize("decision", ["allow", "unknown", ""])
def test_non_actionable_decisions_plan_nothing(decision: str) -> None:
    assert one(decision) == []


@pytest.mark.parametrize("decision", ["ban", "restrict", "review"])
def test_banned_accounts_get_nothing_more(decision: str) -> None:
    assert one(decision, "banned") == []
    assert one(decision, "banned", "shadow") == []


def test_restricted_account() -> None:
    assert one("restrict", "restricted") == []
    assert one("ban", "restricted") == [PlannedAction(7, "acc-7", "ban", "active")]
    assert one("review", "restricted") == [PlannedAction(7, "acc-7", "review", "pending")]


@pytest.mark.parametrize(
    ("decision", "status"),
    [("ban", "shadow"), ("restrict", "shadow"), ("review", "pending")],
)
def test_shadow_mode_records_without_enforcing(decision: str, status: str) -> None:
    (planned,) = one(decision, mode="shadow")
    assert planned.action == decision
    assert planned.status == status


def test_plan_keeps_order_and_identity() -> None:
    candidates = [
        Candidate(1, "a", "ban", "active"),
        Candidate(2, "b", "allow", "active"),
        Candidate(3, "c", "review", "banned"),
        Candidate(4, "d", "restrict", "active"),
        Candidate(5, "e", "review", "active"),
    ]
    assert plan(iter(candidates), "enforce") == [
        PlannedAction(1, "a", "ban", "active"),
        PlannedAction(4, "d", "restrict", "active"),
        PlannedAction(5, "e", "review", "pending"),
    ]


def test_account_status_after() -> None:
    assert account_status_after("ban") == "banned"
    assert account_status_after("restrict") == "restricted"
    with pytest.raises(KeyError):
        account_status_after("review")
