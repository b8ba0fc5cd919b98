"""``bulkguard enqueue`` against a real Redis broker: a JSONL file becomes batches of one stage,
sent by task name as an upstream service sends them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import redis
from click.testing import CliRunner

from workers.cli.main import main


def queued(redis_url: str) -> list[tuple[str, dict[str, Any]]]:
    """(task name, keyword arguments) of each message waiting on the scoring queue."""
    out = []
    for raw in reversed(redis.Redis.from_url(redis_url).lrange("scoring", 0, -1)):
        envelope = json.loads(raw)
        _args, kwargs, _embed = json.loads(envelope["body"])
        out.append((envelope["headers"]["task"], kwargs))
    return out


def test_a_file_is_sent_in_batches_of_one_stage(env: dict[str, str], tmp_path: Path) -> None:
    lines = [{"account_id": f"a{i}", "stage": "registration"} for i in range(5)]
    lines.insert(2, {"account_id": "m1", "stage": "messaging"})
    lines.append({"account_id": "x1", "stage": "nonsense"})  # the workers reject it, not the CLI
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")

    result = CliRunner().invoke(main, ["enqueue", str(path), "--batch", "2"])

    assert result.exit_code == 0, result.output
    assert "enqueued 7 records" in result.output
    sent = queued(env["REDIS_URL"])
    assert {name for name, _ in sent} == {"scoring.score_accounts"}
    batches = [(kw["stage"], [a["account_id"] for a in kw["accounts"]]) for _, kw in sent]
    assert batches == [
        ("registration", ["a0", "a1"]),
        ("registration", ["a2", "a3"]),
        ("messaging", ["m1"]),
        ("registration", ["a4"]),
        ("nonsense", ["x1"]),
    ]


def test_a_line_that_is_not_a_record_is_named(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text('{"account_id": "a", "stage": "registration"}\n{"account_id": "b"}\n')

    result = CliRunner().invoke(main, ["enqueue", str(path)])

    assert result.exit_code == 1
    assert "line 2: not a scoring record" in result.output
