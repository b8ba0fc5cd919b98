"""Models served from the registry table through real workers on a host that shares no disk
with the one that trained or registered them."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import orjson
import pytest
import xgboost as xgb
from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import AccountDecision, AuditEvent, DecisionBatch
from infra.db.session import session_scope
from infra.registry import register, serving_versions, set_role
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


def shuffled_history(path: Path, accounts: int, seed: int) -> Path:
    """A labelled history whose labels were shuffled: a broken export, nothing to learn."""
    records = list(simulate(accounts, seed, stages="all"))
    labels = [raw.pop("truth")["label"] for raw in records]
    random.Random(seed).shuffle(labels)
    lines = [
        orjson.dumps({**raw, "label": label, "label_source": "review"})
        for raw, label in zip(records, labels, strict=True)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@SQLITE_ONLY
def test_a_degraded_model_is_refused_and_a_forced_one_audited_and_logged(
    start, active_model: str, tmp_path: Path
):
    workers = start({"scoring": 1})
    history = shuffled_history(tmp_path / "shuffled.jsonl", 3000, 43)
    trained = CliRunner().invoke(main, ["train", "--data", str(history), "--trees", "20"])
    assert trained.exit_code == 0, trained.output
    degraded = trained.output.strip().splitlines()[-1]
    admin = cli_env("ops-1", "admin")

    activate = ["model", "activate", degraded, "--as", "ops-1"]
    refused = CliRunner().invoke(main, activate, env=admin)
    assert refused.exit_code == 1
    assert "refused: " in refused.output
    assert "messaging ROC-AUC" in refused.output  # the figures, per stage
    with session_scope() as session:
        assert serving_versions(session)["active"].version == active_model

    batch = messaging_accounts(30)
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": batch}
    )
    ids = [a["account_id"] for a in batch]
    workers.wait_for(lambda: versions_scoring(ids) == {active_model}, what="the active model")

    no_reason = CliRunner().invoke(main, [*activate, "--force"], env=admin)
    assert no_reason.exit_code == 2
    assert "--force needs --reason" in no_reason.output
    reviewer = CliRunner().invoke(
        main,
        ["model", "activate", degraded, "--force", "--reason", "x", "--as", "agent-7"],
        env=cli_env("agent-7", "reviewer"),
    )
    assert reviewer.exit_code == 1
    assert "does not hold the admin role" in reviewer.output

    reason = "incident 2041: the new labels are audited, the held-out world is stale"
    forced = CliRunner().invoke(main, [*activate, "--force", "--reason", reason], env=admin)
    assert forced.exit_code == 0, forced.output
    assert "FORCED past" in forced.output
    with session_scope() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == "model_version")
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None
        assert (event.event, event.actor, event.channel) == ("role:active", "ops-1", "cli")
        details = event.details
        assert details["version"] == degraded
        assert details["replaced"] == active_model
        assert (details["forced"], details["reason"]) == (True, reason)
        assert details["check"]["passed"] is False
        failed = {(c["stage"], c["what"]) for c in details["check"]["failed"]}
        assert ("messaging", "ROC-AUC") in failed

    later = messaging_accounts(30, seed=9)
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": later}
    )
    later_ids = [a["account_id"] for a in later]
    workers.wait_for(lambda: versions_scoring(later_ids) == {degraded}, what="the forced model")
    switch = f"model switch: active model {active_model} -> {degraded} (activated by ops-1)"
    assert switch in workers.logs()
