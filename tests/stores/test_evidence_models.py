"""Evidence models in the registry beside account models (each kind with its own active and
shadow version), trained, activated by an admin and read with by ``bulkguard evidence``."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from infra.db.models import ModelVersion
from infra.db.session import session_scope
from infra.registry import register, serving_versions, set_role, versions_dir
from infra.settings import get_settings
from tasks.evidence import claim_reader
from tasks.evidence.reading.analysis import RULES
from tests.evidence_model import small_model
from tests.people import cli_env
from workers.cli.main import main


def account_model(version: str) -> Path:
    directory = get_settings().models_dir / version
    directory.mkdir(parents=True)
    card = {
        "version": version,
        "created_at": "2020-01-01T00:00:00+00:00",
        "metrics": {"roc_auc": 0.99, "pr_auc": 0.9},
    }
    (directory / "card.json").write_text(json.dumps(card))
    (directory / "model.ubj").write_bytes(f"model {version}".encode())
    return directory


def evidence_model(version: str) -> Path:
    """The small model under another version's name, as training writes a version."""
    directory = versions_dir(get_settings().models_dir, "evidence") / version
    directory.mkdir(parents=True)
    model = small_model()
    card = {"version": version, "kind": "evidence", "metrics": {}, "threshold": model.threshold}
    (directory / "card.json").write_text(json.dumps(card))
    (directory / "model.json").write_bytes(orjson.dumps({**model.spec, "version": version}))
    return directory


def roles() -> dict[str, tuple[str, str]]:
    with session_scope() as session:
        rows = session.execute(
            select(ModelVersion.version, ModelVersion.kind, ModelVersion.role)
        ).all()
        return {version: (kind, role) for version, kind, role in rows}


@pytest.fixture(autouse=True)
def _fresh_reader_cache() -> None:
    # Each test has its own database: the process's cache of the active model starts empty.
    claim_reader._checked_at = None
    claim_reader._loaded.clear()


def test_each_kind_has_its_own_active_model(env: dict[str, str]) -> None:
    with session_scope() as session:
        account = register(session, account_model("xgb-a"))
        evidence = register(session, evidence_model("evidence-a"))
        register(session, evidence_model("evidence-b"))
        assert (account.kind, account.path) == ("account", "xgb-a/model.ubj")
        assert (evidence.kind, evidence.path) == ("evidence", "evidence/evidence-a/model.json")
        set_role(session, "xgb-a", "active")
        set_role(session, "evidence-a", "active")
    assert roles() == {
        "xgb-a": ("account", "active"),
        "evidence-a": ("evidence", "active"),
        "evidence-b": ("evidence", "candidate"),
    }
    with session_scope() as session:
        set_role(session, "evidence-b", "active")
        set_role(session, "evidence-a", "shadow")
    assert roles()["xgb-a"] == ("account", "active")  # another kind's activation leaves it
    with session_scope() as session:
        assert serving_versions(session)["active"].version == "xgb-a"
        evidence_roles = serving_versions(session, "evidence")
        assert {r: row.version for r, row in evidence_roles.items()} == {
            "active": "evidence-b",
            "shadow": "evidence-a",
        }
    # The account manifest lists account models only.
    manifest = json.loads((get_settings().models_dir / "manifest.json").read_text())
    assert [m["version"] for m in manifest["models"]] == ["xgb-a"]


def test_the_database_refuses_two_active_models_of_one_kind(env: dict[str, str]) -> None:
    with session_scope() as session:
        session.add_all(
            ModelVersion(version=v, kind=k, role="active", path=f"{v}/m", card={})
            for v, k in (("a-1", "account"), ("e-1", "evidence"))
        )
        session.flush()
        session.add(ModelVersion(version="e-2", kind="evidence", role="active", path="m", card={}))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_an_evidence_model_scores_no_accounts(env: dict[str, str], tmp_path: Path) -> None:
    with session_scope() as session:
        register(session, evidence_model("evidence-a"))
    records = tmp_path / "records.jsonl"
    records.write_text('{"account_id": "a1", "stage": "registration"}\n')
    result = CliRunner().invoke(main, ["score", str(records), "--model", "evidence-a"])
    assert result.exit_code == 1
    assert "it scores no accounts" in result.output


def test_the_active_evidence_model_reads_and_is_named(env: dict[str, str]) -> None:
    with session_scope() as session:
        assert claim_reader.active_model(session) is None
    with session_scope() as session:
        register(session, evidence_model("evidence-a"))
        set_role(session, "evidence-a", "active")
    claim_reader._checked_at = None  # past the refresh interval
    with session_scope() as session:
        model = claim_reader.active_model(session)
        assert model is not None
        assert model.version == "evidence-a"
        assert claim_reader.model_for(session, "evidence-a") is model
        assert claim_reader.model_for(session, RULES) is None
        assert claim_reader.model_for(session, "evidence-gone") is None


def test_train_activate_and_analyze_from_the_command_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    pages = tmp_path / "pages.jsonl"
    bundled = Path(__file__).parents[2] / "tasks" / "offline" / "data"
    corpus = [bundled / "corpus" / f"wa-{lang}.jsonl" for lang in ("en", "es", "pt")]
    pages.write_bytes(b"".join(p.read_bytes() for p in corpus) + b"{not json\n")

    refused = CliRunner().invoke(
        main,
        ["evidence", "train", "--data", str(pages), "--only-data", "--activate", "--as", "rev"],
        env=cli_env("rev", "reviewer"),
    )
    assert refused.exit_code == 1
    assert "does not hold the admin role" in refused.output

    trained = CliRunner().invoke(
        main,
        ["evidence", "train", "--data", str(pages), "--only-data", "--activate", "--as", "ops"],
        env=cli_env("ops", "admin"),
    )
    assert trained.exit_code == 0, trained.output
    assert "skipped: pages.jsonl line" in trained.output
    version = trained.output.strip().splitlines()[-1]
    assert roles() == {version: ("evidence", "active")}
    listed = CliRunner().invoke(main, ["model", "list"])
    assert f"{version}\tactive\tevidence\tprecision=" in listed.output

    documents = tmp_path / "documents.jsonl"
    offer = "Bulk WhatsApp sender: 50,000 messages a day with anti-ban rotation, from $19."
    documents.write_bytes(orjson.dumps({"id": "d1", "text": offer}) + b"\n")
    claim_reader._checked_at = None
    read = CliRunner().invoke(main, ["evidence", "analyze", str(documents), "--explain"])
    assert read.exit_code == 0, read.output
    line = json.loads(read.stdout.splitlines()[0])
    assert line["reader"] == version
    assert 0 <= line["claim_probability"] <= 1
    assert line["contributions"]
    assert {c["feature"].split(":")[0] for c in line["contributions"]} <= {"signal", "word"}
    by_rules = CliRunner().invoke(main, ["evidence", "analyze", str(documents), "--model", "rules"])
    assert json.loads(by_rules.stdout.splitlines()[0])["reader"] == RULES
    unknown = CliRunner().invoke(main, ["evidence", "analyze", str(documents), "--model", "nope"])
    assert unknown.exit_code == 1
    assert "no evidence model 'nope'" in unknown.output
