"""`bulkguard score`: offline scoring with the workers' own code path."""

from __future__ import annotations

import orjson

from tasks.offline.score_file import LineError, score_lines
from tasks.offline.simulate_accounts import simulate
from tasks.scoring.model import ACTIONED, Scorer


def test_each_valid_line_gets_one_result_and_bad_lines_are_named(scorer: Scorer) -> None:
    records = list(simulate(400, seed=12))
    lines = [orjson.dumps(r) for r in records]
    lines.insert(5, b"{not json")
    lines.insert(9, orjson.dumps({**records[0], "phone": "12345"}))
    lines.insert(11, b"   ")
    results = list(score_lines(lines, scorer))

    errors = [r for r in results if isinstance(r, LineError)]
    assert [e.line for e in errors] == [6, 10]
    assert errors[0].reason.startswith("not JSON")
    assert "phone" in errors[1].reason

    scored = [r for r in results if not isinstance(r, LineError)]
    assert [r["account_id"] for r in scored] == [r["account_id"] for r in records]
    assert {r["stage"] for r in scored} == {"registration", "messaging", "feedback"}
    assert all(r["model_version"] == scorer.version for r in scored)
    actioned = [r for r in scored if r["decision"] in ACTIONED]
    assert actioned
    assert all(r["reasons"] for r in actioned)
    assert not any("reasons" in r for r in scored if r["decision"] == "allow")


def test_the_same_file_scores_the_same_twice(scorer: Scorer) -> None:
    lines = [orjson.dumps(r) for r in simulate(200, seed=13)]
    assert list(score_lines(lines, scorer)) == list(score_lines(lines, scorer))
