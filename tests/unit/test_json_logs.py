"""JSON log lines: the fields a log pipeline indexes, redacted text, accounts as keyed hashes."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from click.testing import CliRunner

from infra import redaction
from infra.json_logs import JsonFormatter, account_ref


def emit(formatter: JsonFormatter, **extra: object) -> dict[str, Any]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    redaction.install([handler])
    logger = logging.getLogger(f"test.json.{id(stream)}")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError("lookup of +421905123456 failed")
    except ValueError:
        logger.error("account owner %s wrote", "ceo@example-bulk.sk", exc_info=True, extra=extra)
    (line,) = stream.getvalue().splitlines()
    entry: dict[str, Any] = json.loads(line)
    return entry


def test_a_line_is_one_object_with_redacted_message_and_traceback():
    entry = emit(JsonFormatter("k"))
    assert entry["level"] == "ERROR"
    assert entry["time"].endswith("+00:00")
    assert "ceo@example-bulk.sk" not in entry["message"]
    assert "***" in entry["message"]
    assert "ValueError" in entry["exception"]
    assert "421905123456" not in entry["exception"]
    assert "task_id" not in entry  # outside a task
    assert "account" not in entry


def test_accounts_are_shown_as_keyed_hashes():
    entry = emit(JsonFormatter("deployment-secret"), account_id="acc-42")
    assert entry["account"] == account_ref("acc-42", "deployment-secret")
    assert entry["account"] != account_ref("acc-42", "another-key")
    assert "acc-42" not in json.dumps(entry)
    assert len(entry["account"]) == 16


def test_the_cli_prints_the_hash_an_operator_searches_for(monkeypatch):
    from infra.settings import get_settings
    from workers.cli.main import main

    monkeypatch.setenv("BULKGUARD_LOG_HASH_KEY", "deployment-secret")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["log-ref", "acc-42"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert result.output.strip() == account_ref("acc-42", "deployment-secret")


def test_while_a_key_is_rotated_out_the_cli_prints_both_hashes(monkeypatch):
    from infra.settings import get_settings
    from workers.cli.main import main

    monkeypatch.setenv("BULKGUARD_LOG_HASH_KEY", "new-secret")
    monkeypatch.setenv("BULKGUARD_LOG_HASH_PREVIOUS_KEY", "old-secret")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["log-ref", "acc-42"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    current, previous = result.output.splitlines()
    assert current == account_ref("acc-42", "new-secret")
    assert previous.split("\t")[0] == account_ref("acc-42", "old-secret")
