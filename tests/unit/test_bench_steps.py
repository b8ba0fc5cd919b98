"""The benchmark's per-step breakdown runs the scoring task's steps for real."""

from __future__ import annotations

from sqlalchemy import func, select

from infra.db.models import Score
from infra.db.session import session_scope
from tasks.scoring.signals import Stage
from workers.bench import _accounts, step_costs

STEPS = {
    "decode_json",
    "validate",
    "signal_features",
    "neighbourhood_features",
    "predict_and_decide",
    "store_and_commit",
}


def test_step_costs_time_every_step_and_store_the_scores(active_model: str) -> None:
    batches = [_accounts(50, seed, Stage.MESSAGING) for seed in (1, 2)]
    costs = step_costs(batches, Stage.MESSAGING)
    assert set(costs) == STEPS
    assert all(cost > 0 for cost in costs.values())
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Score)) == 100
