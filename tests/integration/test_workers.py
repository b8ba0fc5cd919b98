"""Worker runtime: prefork children after fork, model hot-swap, and a killed child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from infra.db.models import AccountDecision, DecisionBatch, EnforcementAction
from infra.db.session import session_scope
from infra.registry import register, set_role
from infra.settings import get_settings
from tasks.offline.simulate_accounts import simulate
from tasks.offline.training import TrainingConfig, train
from tests.integration.waiting import count

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _batches(stage: str, n: int, seed: int, size: int) -> list[list[dict[str, Any]]]:
    records = [r for r in simulate(n, seed) if r["stage"] == stage]
    return [records[i : i + size] for i in range(0, len(records), size)]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


@SQLITE_ONLY
def test_two_prefork_children_both_score_without_hanging(start, active_model):
    # The model is loaded in each child after fork (XGBoost's OpenMP hangs a forked child that
    # inherited a booster used by its parent). Both children must score.
    workers = start(
        {"scoring": 2}, extra_env={"BULKGUARD_MODEL_THREADS": "1"}, pools={"scoring": "prefork"}
    )
    batches = _batches("messaging", 3000, seed=21, size=50)
    for batch in batches:
        workers.app.send_task(
            "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": batch}
        )
    total = sum(len(b) for b in batches)
    workers.wait_for(lambda: count(AccountDecision) == total, timeout=90, what="all batches scored")
    stats = workers.app.control.inspect(timeout=2).stats() or {}
    (worker_stats,) = stats.values()
    per_child = [int(n) for n in worker_stats["pool"]["writes"]["raw"].split(", ")]
    assert len(per_child) == 2, worker_stats["pool"]
    assert min(per_child) > 0, worker_stats["pool"]
    assert workers.alive()


@SQLITE_ONLY
def test_activating_a_model_reaches_running_workers(start, active_model, tmp_path):
    workers = start({"scoring": 1})
    first, second = _batches("registration", 400, seed=8, size=40)[:2]
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "registration", "accounts": first}
    )
    workers.wait_for(lambda: count(AccountDecision) == len(first), what="first batch scored")

    new_dir = train(
        TrainingConfig(accounts=2000, seed=99, trees=20, depth=4), get_settings().models_dir
    )
    with session_scope() as session:
        new_version = register(session, new_dir).version
        set_role(session, new_version, "active")
    time.sleep(2.5)  # the workers re-read the registry every two seconds

    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "registration", "accounts": second}
    )
    workers.wait_for(
        lambda: count(AccountDecision) == len(first) + len(second), what="second batch"
    )
    with session_scope() as session:
        versions = dict(
            session.execute(
                select(
                    DecisionBatch.model_version,
                    func.sum(
                        DecisionBatch.allowed
                        + DecisionBatch.reviewed
                        + DecisionBatch.restricted
                        + DecisionBatch.banned
                    ),
                ).group_by(DecisionBatch.model_version)
            ).all()
        )
    assert versions == {active_model: len(first), new_version: len(second)}


@SQLITE_ONLY
def test_a_killed_child_loses_no_account_and_doubles_no_ban(start, active_model):
    # Every queue (enforcement hands work to evidence and legal), scoring on prefork: the child
    # dies, not the worker (a solo worker's death is test_consumer_death's).
    workers = start(pools={"scoring": "prefork"})
    batches = _batches("messaging", 6000, seed=31, size=100)
    ids = [r["account_id"] for b in batches for r in b]
    for batch in batches:
        workers.app.send_task(
            "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": batch}
        )
    scoring = next(w for w in workers.processes if w.queue == "scoring")
    workers.wait_for(lambda: count(AccountDecision) > 0, what="scoring to start")
    killed = 0
    for child in _children(scoring.process.pid)[:1]:
        os.kill(child, signal.SIGKILL)  # mid-batch: its message was delivered, never acked
        killed += 1
    assert killed == 1
    counts = workers.drain(ids, active_model, timeout=180)
    assert counts["scored"] == len(ids)
    with session_scope() as session:
        per_account = session.execute(
            select(EnforcementAction.account_id, func.count())
            .where(EnforcementAction.action == "ban")
            .group_by(EnforcementAction.account_id)
            .having(func.count() > 1)
        ).all()
        assert per_account == []
        # Each account decided once: the killed child's batch, redelivered, added nothing.
        assert session.scalar(select(func.count()).select_from(AccountDecision)) == len(ids)
    assert workers.alive()


LAUNCHER = """
import os, sys
from pathlib import Path
from workers.harness.processes import start_workers
(worker,) = start_workers({"maintenance": 1}, {}, Path(sys.argv[1]), "orphan")
print(worker.process.pid, flush=True)
os._exit(0)  # dies without stopping its worker, as a killed demo or test run would
"""


@SQLITE_ONLY
def test_a_worker_stops_when_its_launcher_dies(env: dict[str, str], tmp_path: Path) -> None:
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(tmp_path / "logs")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    pid = int(launched.stdout.split()[-1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.5)
    assert not _alive(pid), "an orphaned worker kept running"
    assert "launcher" in (tmp_path / "logs").joinpath("worker-maintenance.log").read_text()


def _alive(pid: int) -> bool:
    # The worker is not our child (its launcher was), so it is reaped by init: a zombie counts
    # as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"
