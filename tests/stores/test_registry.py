"""The model registry on SQLite and PostgreSQL: versions, roles, one active model."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from infra.db.models import (
    AuditEvent,
    ModelVersion,
)
from infra.db.session import session_scope
from infra.registry import (
    RegistryError,
    local_model_file,
    register,
    serving_versions,
    set_role,
)
from infra.settings import get_settings
from tasks.offline.simulate_accounts import simulate
from tests.people import cli_env
from workers.cli.main import main


def fake_model(version: str) -> Path:
    directory = get_settings().models_dir / version
    directory.mkdir(parents=True)
    card = {
        "version": version,
        "created_at": "2020-01-01T00:00:00+00:00",
        "metrics": {"roc_auc": 0.99, "pr_auc": 0.9},
        "thresholds": {"registration": {"review": 0.5, "restrict": 0.8, "ban": 0.9}},
    }
    (directory / "card.json").write_text(json.dumps(card))
    (directory / "model.ubj").write_bytes(f"model {version}".encode())
    return directory


def roles() -> dict[str, str]:
    with session_scope() as session:
        return dict(session.execute(select(ModelVersion.version, ModelVersion.role)).all())


def test_registering_twice_keeps_one_row(env: dict[str, str]) -> None:
    directory = fake_model("m-a")
    for _ in range(2):
        with session_scope() as session:
            row = register(session, directory)
            assert row.role == "candidate"
            assert row.path == "m-a/model.ubj"
    assert roles() == {"m-a": "candidate"}
    manifest = json.loads((get_settings().models_dir / "manifest.json").read_text())
    assert [m["version"] for m in manifest["models"]] == ["m-a"]


def test_one_active_model_at_a_time(env: dict[str, str]) -> None:
    with session_scope() as session:
        for version in ("m-a", "m-b", "m-c"):
            register(session, fake_model(version))
    with session_scope() as session:
        set_role(session, "m-a", "active")
    assert roles() == {"m-a": "active", "m-b": "candidate", "m-c": "candidate"}
    with session_scope() as session:
        set_role(session, "m-b", "active")
    assert roles() == {"m-a": "retired", "m-b": "active", "m-c": "candidate"}
    with session_scope() as session:
        set_role(session, "m-c", "shadow")
        set_role(session, "m-b", "active")  # again: nothing changes
    assert roles() == {"m-a": "retired", "m-b": "active", "m-c": "shadow"}
    with session_scope() as session:
        serving = serving_versions(session)
        assert {role: row.version for role, row in serving.items()} == {
            "active": "m-b",
            "shadow": "m-c",
        }
    with session_scope() as session:
        set_role(session, "m-a", "shadow")
    assert roles() == {"m-a": "shadow", "m-b": "active", "m-c": "retired"}


def test_registry_errors(env: dict[str, str]) -> None:
    with session_scope() as session:
        register(session, fake_model("m-a"))
    with session_scope() as session, pytest.raises(RegistryError, match="no model version"):
        set_role(session, "m-missing", "active")
    with session_scope() as session, pytest.raises(RegistryError, match="unknown role"):
        set_role(session, "m-a", "boss")
    assert roles() == {"m-a": "candidate"}


def test_database_refuses_two_active_models(env: dict[str, str]) -> None:
    with session_scope() as session:
        session.add_all(
            [
                ModelVersion(version=v, role="active", path=f"{v}/model.ubj", card={})
                for v in ("x-1", "x-2")
            ]
        )
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()
    assert roles() == {}


def test_the_active_model_cannot_become_the_shadow(env: dict[str, str]) -> None:
    with session_scope() as session:
        register(session, fake_model("m-a"))
        set_role(session, "m-a", "active")
    with session_scope() as session, pytest.raises(RegistryError, match="is the active model"):
        set_role(session, "m-a", "shadow")
    assert roles() == {"m-a": "active"}

    activate = ["model", "activate", "m-a", "--shadow", "--as"]
    result = CliRunner().invoke(main, [*activate, "ops-1"], env=cli_env("ops-1", "admin"))
    assert result.exit_code == 1
    assert "m-a is the active model" in result.output
    assert roles() == {"m-a": "active"}


def trained_copy(version: str, trained_model_dir: Path) -> Path:
    """The session's model under another version name: a model the activation check can score."""
    directory = get_settings().models_dir / version
    shutil.copytree(trained_model_dir, directory)
    card = json.loads((directory / "card.json").read_text())
    (directory / "card.json").write_text(json.dumps({**card, "version": version}))
    return directory


def test_a_model_is_activated_by_an_admin_and_the_change_audited(
    env: dict[str, str], trained_model_dir: Path
) -> None:
    with session_scope() as session:
        register(session, trained_copy("m-a", trained_model_dir))
        register(session, trained_copy("m-b", trained_model_dir))
    activate = ["model", "activate", "m-b", "--as"]
    refused = CliRunner().invoke(main, [*activate, "agent-7"], env=cli_env("agent-7", "reviewer"))
    assert refused.exit_code == 1
    assert "does not hold the admin role" in refused.output
    assert roles() == {"m-a": "candidate", "m-b": "candidate"}
    done = CliRunner().invoke(main, [*activate, "ops-1"], env=cli_env("ops-1", "admin"))
    assert done.exit_code == 0, done.output
    assert roles() == {"m-a": "candidate", "m-b": "active"}
    with session_scope() as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "model_version")
        ).all()
        assert (event.event, event.actor, event.channel) == ("role:active", "ops-1", "cli")
        assert {k: event.details[k] for k in ("version", "previous_role")} == {
            "version": "m-b",
            "previous_role": "candidate",
        }
        # Checked against the targets alone (no model was active), on the held-out world.
        check = event.details["check"]
        assert (check["active"], check["passed"], check["failed"]) == (None, True, [])

    # A candidate that cannot be scored is refused with why, and nothing changes.
    with session_scope() as session:
        register(session, fake_model("m-c"))
    broken = CliRunner().invoke(
        main, ["model", "activate", "m-c", "--as", "ops-1"], env=cli_env("ops-1", "admin")
    )
    assert broken.exit_code == 1
    assert "m-c cannot be scored to check it" in broken.output
    assert roles() == {"m-a": "candidate", "m-b": "active", "m-c": "candidate"}


def test_scoring_a_file_without_an_active_model_explains(
    env: dict[str, str], tmp_path: Path
) -> None:
    with session_scope() as session:
        register(session, fake_model("m-a"))
    records = tmp_path / "records.jsonl"
    records.write_text('{"account_id": "a1", "stage": "registration"}\n')

    result = CliRunner().invoke(main, ["score", str(records)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "no model version is active" in result.output
    result = CliRunner().invoke(main, ["score", str(records), "--model", "m-missing"])
    assert result.exit_code == 1
    assert "'m-missing' is not registered" in result.output


def test_workers_on_another_host_load_the_model_from_the_database(
    env: dict[str, str], trained_model_dir: Path, tmp_path: Path
) -> None:
    models_dir = get_settings().models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(trained_model_dir, models_dir / trained_model_dir.name)
    with session_scope() as session:
        row = register(session, models_dir / trained_model_dir.name)
        expected = row.artifact_sha256
    original = (trained_model_dir / "model.ubj").read_bytes()
    assert expected == hashlib.sha256(original).hexdigest()

    elsewhere = tmp_path / "another-host" / "models"  # nothing shared with the first
    with session_scope() as session:
        row = session.get_one(ModelVersion, trained_model_dir.name)
        path = local_model_file(session, elsewhere, row)
        assert path.read_bytes() == original
        # A damaged cache is written again from the database.
        path.write_bytes(b"damaged")
        assert local_model_file(session, elsewhere, row).read_bytes() == original
        # A database copy that does not match its hash is refused, never served.
        row.artifact = b"tampered"
        session.flush()
        path.unlink()
        with pytest.raises(RegistryError, match="does not match its SHA-256"):
            local_model_file(session, elsewhere, row)
        session.rollback()


def test_train_on_labelled_history_and_register_a_model_from_elsewhere(
    env: dict[str, str], trained_model_dir: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.jsonl"
    lines = []
    for raw in simulate(6000, 31, stages="all"):
        truth = raw.pop("truth")
        lines.append(orjson.dumps({**raw, "label": truth["label"], "label_source": "appeal"}))
    history.write_bytes(b"\n".join([*lines, b"{broken"]) + b"\n")

    trained = CliRunner().invoke(main, ["train", "--data", str(history), "--trees", "30"])
    assert trained.exit_code == 0, trained.output
    assert "skipped: not JSON" in trained.output
    version = trained.output.strip().splitlines()[-1]

    elsewhere = tmp_path / "their-model.ubj"
    shutil.copy(trained_model_dir / "model.ubj", elsewhere)
    register_as = ["--activate", "--as", "ops-1"]
    registered = CliRunner().invoke(
        main,
        ["model", "register", str(elsewhere), "--labels", str(history), *register_as],
        env=cli_env("ops-1", "admin"),
    )
    assert registered.exit_code == 0, registered.output
    theirs = registered.output.strip().splitlines()[-1]
    assert roles() == {version: "candidate", theirs: "active"}
    with session_scope() as session:
        card = session.get_one(ModelVersion, theirs).card
        assert card["data"]["model_file"] == "their-model.ubj"
        assert card["data"]["label_sources"] == {"appeal": len(lines)}

    # A backtest of both on the same history, and where they disagree.
    compared = CliRunner().invoke(
        main, ["score", str(history), "--labels", "--model", version, "--compare", theirs]
    )
    assert compared.exit_code == 0, compared.output
    report = json.loads(compared.stdout)
    assert [v["version"] for v in report["versions"]] == [version, theirs]
    assert set(report["versions"][0]["stages"]) == {"registration", "messaging", "feedback"}
    assert report["disagreements"]["records"] == len(lines)

    bad = tmp_path / "bad.ubj"
    bad.write_bytes(b"nope")
    refused = CliRunner().invoke(main, ["model", "register", str(bad), "--labels", str(history)])
    assert refused.exit_code == 1
    assert "not an XGBoost model" in refused.output


def test_the_activation_check_runs_on_labelled_history_when_named(
    env: dict[str, str], trained_model_dir: Path, tmp_path: Path
) -> None:
    with session_scope() as session:
        register(session, trained_copy("m-a", trained_model_dir))
        register(session, trained_copy("m-b", trained_model_dir))
        set_role(session, "m-a", "active")
    history = tmp_path / "history.jsonl"
    lines = []
    for raw in simulate(1500, 37, stages="all"):
        truth = raw.pop("truth")
        lines.append(orjson.dumps({**raw, "label": truth["label"], "label_source": "review"}))
    history.write_bytes(b"\n".join(lines) + b"\n")
    activate = ["model", "activate", "m-b", "--as", "ops-1"]
    admin = cli_env("ops-1", "admin")

    empty = tmp_path / "empty.jsonl"
    empty.write_text("{broken\n")
    refused = CliRunner().invoke(main, [*activate, "--labels", str(empty)], env=admin)
    assert refused.exit_code == 1
    assert "no valid" in refused.output.lower()
    assert roles() == {"m-a": "active", "m-b": "candidate"}

    done = CliRunner().invoke(main, [*activate, "--labels", str(history)], env=admin)
    assert done.exit_code == 0, done.output
    assert roles() == {"m-a": "retired", "m-b": "active"}
    with session_scope() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "role:active").order_by(AuditEvent.id)
        ).all()[-1]
        check = event.details["check"]
        assert check["held_out"] == f"{len(lines)} labelled records from history.jsonl"
        assert (check["active"], check["passed"]) == ("m-a", True)
        assert event.details["replaced"] == "m-a"
