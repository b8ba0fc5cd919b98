"""The fault suite in its short form: one trial of each deterministic scenario with real
processes on loopback (its own Redis, SQLite, workers and beat), and no effect lost or doubled.
``bulkguard chaos`` runs every scenario with more trials (docs/reliability.md, "Fault trials")."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from workers.harness.chaos import trials
from workers.harness.chaos.cluster import CONCURRENCY
from workers.harness.chaos.poison import POISON, raw_messages
from workers.harness.chaos.run import cluster_on_loopback, run_trials

# Deterministic ones: on Redis, a worker's main process killed between BRPOP and its unacked
# record loses the message (docs/reliability.md, "Brokers"), so kill-main runs there in the full
# suite only.
SHORT = ["kill-pool", "sigterm", "redis-forgets", "redeliver", "hostile", "fuzz", "poison"]
# RabbitMQ has no such window; Redis still keeps the neighbourhood counters (restarting it is
# not a broker fault there). Poison there is every crafted AMQP message, published raw.
SHORT_RABBITMQ = ["kill-main", "kill-pool", "redeliver", "hostile", "poison"]


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_no_effect_is_lost_or_doubled_under_faults(
    broker: str, trained_model_dir: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    on_rabbitmq = broker == "rabbitmq"
    broker_url = request.getfixturevalue("rabbitmq_queues") if on_rabbitmq else None
    with cluster_on_loopback(
        tmp_path / "chaos", broker_url=broker_url, postgres_url=None, model_dir=trained_model_dir
    ) as (cluster, app):
        results = run_trials(
            cluster,
            app,
            trials.names(SHORT_RABBITMQ if on_rabbitmq else SHORT),
            trials=1,
            accounts=800,
            seed=11,
            patience=90,
            console=Console(quiet=True),
        )
    rows = {r.scenario: r.row() for r in results}
    for name, row in rows.items():
        assert row["effects_lost"] == 0, (name, row)
        assert row["effects_duplicated"] == 0, (name, row)
        assert row["trials"] == 1, (name, row)
    assert rows["kill-pool"]["worker_deaths"] >= 1
    # Hostile bodies: what a worker refuses is refused record by record, the rest is scored
    # (the trial counts as settled only if every acceptable record was).
    assert 0 < rows["hostile"]["scored"] < 800
    # Every poison item pushed onto every queue under load: one dead letter each, and no
    # worker stopped.
    poison = len(raw_messages()) if on_rabbitmq else len(POISON)
    assert rows["poison"]["dead_letters"] == poison * len(CONCURRENCY)
    assert rows["poison"]["worker_deaths"] == 0
    assert rows["poison"]["scored"] == 800
    if not on_rabbitmq:
        assert rows["redis-forgets"]["scored"] == 800
        assert 0 < rows["fuzz"]["scored"] < 800


def test_a_broker_that_forgets_is_caught_up_within_a_minute_at_production_timeouts(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    # Production's 15-minute redelivery wait: only seeing the loss brings the follow-ups back
    # within the trial's patience.
    with cluster_on_loopback(
        tmp_path / "chaos",
        broker_url=None,
        postgres_url=None,
        model_dir=trained_model_dir,
        production_timeouts=True,
    ) as (cluster, app):
        (result,) = run_trials(
            cluster,
            app,
            trials.names(["redis-forgets"]),
            trials=1,
            accounts=800,
            seed=5,
            patience=90,
            console=Console(quiet=True),
        )
    row = result.row()
    assert (row["effects_lost"], row["effects_duplicated"], row["scored"]) == (0, 0, 800), row
    assert row["recovery_s_max"] is not None, row
    assert row["recovery_s_max"] < 60, row
