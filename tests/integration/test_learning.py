"""Models served from the registry table through real workers on a host that shares no disk
with the one that trained or registered them."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
import xgboost as xgb
from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import AccountDecision, DecisionBatch
from infra.db.session import session_scope
from infra.registry import register, set_role
from infra.settings import get_settings
from tasks.offline.simulate_accounts import simulate
from tests.people import cli_env
from tests.records import messaging_accounts
from workers.cli.main import main

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def versions_scoring(ids: list[str]) -> set[str]:
    with session_scope() as session:
        return set(
            session.scalars(
                select(DecisionBatch.model_version)
                .join(AccountDecision, AccountDecision.snapshot_id == DecisionBatch.snapshot_id)
                .where(AccountDecision.account_id.in_(ids), ~DecisionBatch.shadow)
            )
        )


@SQLITE_ONLY
def test_models_reach_workers_through_the_registry_alone(
    start, trained_model_dir: Path, tmp_path: Path
):
    models_dir = get_settings().models_dir
    models_dir.mkdir(parents=True)
    shutil.copytree(trained_model_dir, models_dir / trained_model_dir.name)
    with session_scope() as session:
        first = register(session, models_dir / trained_model_dir.name).version
        set_role(session, first, "active")
    other_host = tmp_path / "another-host"
    workers = start({"scoring": 1}, extra_env={"BULKGUARD_DATA_DIR": str(other_host)})

    batch = messaging_accounts(50)
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": batch}
    )
    ids = [a["account_id"] for a in batch]
    workers.wait_for(lambda: versions_scoring(ids) == {first}, what="scored by the first model")
    cached = other_host / "models" / trained_model_dir.name / "model.ubj"
    assert cached.read_bytes() == (trained_model_dir / "model.ubj").read_bytes()

    # A model trained elsewhere, registered from a path with the platform's labelled history
    # and activated: the running workers switch to it, fetching it from the database.
    history = tmp_path / "history.jsonl"
    rows = []
    for raw in simulate(6000, 41, stages="all"):
        truth = raw.pop("truth")
        rows.append(orjson.dumps({**raw, "label": truth["label"], "label_source": "review"}))
    history.write_bytes(b"\n".join(rows) + b"\n")
    elsewhere = tmp_path / "from-elsewhere.json"
    shutil.copy(trained_model_dir / "model.ubj", tmp_path / "m.ubj")
    xgb.Booster(model_file=str(tmp_path / "m.ubj")).save_model(str(elsewhere))
    register_as = ["--activate", "--as", "ops-1"]
    registered = CliRunner().invoke(
        main,
        ["model", "register", str(elsewhere), "--labels", str(history), *register_as],
        env=cli_env("ops-1", "admin"),
    )
    assert registered.exit_code == 0, registered.output
    second = registered.output.strip().splitlines()[-1]
    assert second != first

    later = messaging_accounts(50, seed=9)
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": later}
    )
    later_ids = [a["account_id"] for a in later]
    workers.wait_for(
        lambda: versions_scoring(later_ids) == {second}, what="scored by the registered model"
    )
    assert (other_host / "models" / second / "model.ubj").exists()
