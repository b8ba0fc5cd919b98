"""The table of errors by population and tactic: each row's decision at its own stage's
thresholds, a population's rows counted once in "all" and once under each of its tactics."""

from __future__ import annotations

import numpy as np

from tasks.offline.confusion import confusion_table

BOUNDS = {
    "registration": {"review": 0.5, "restrict": 0.7, "ban": 1.0},
    "messaging": {"review": 0.3, "restrict": 0.6, "ban": 0.9},
    "feedback": {"review": 0.3, "restrict": 0.6, "ban": 0.9},
}


def test_decisions_are_counted_by_population_and_tactic() -> None:
    scores = np.array([0.95, 0.4, 0.2, 0.95, 0.65, 0.1], dtype=np.float32)
    stages = np.array([1, 1, 1, 0, 2, 2], dtype=np.int8)
    populations: list[str | None] = ["bulk", "bulk", "bulk", "casual", "casual", None]
    tactics = [(), ("aged_number", "human_delays"), ("aged_number",), (), ("voice_notes",), ()]
    table = confusion_table(
        scores,
        stages,
        populations,
        tactics,
        abusive={"bulk": True, "casual": False},
        thresholds=BOUNDS,
    )
    rows = {(r["stage"], r["population"], r["tactic"]): r for r in table}
    assert list(rows) == [
        ("registration", "casual", "all"),
        ("messaging", "bulk", "all"),
        ("messaging", "bulk", "aged_number"),
        ("messaging", "bulk", "human_delays"),
        ("feedback", "casual", "all"),
        ("feedback", "casual", "voice_notes"),
    ]
    bulk = rows[("messaging", "bulk", "all")]
    assert (bulk["rows"], bulk["ban"], bulk["review"], bulk["allow"]) == (3, 1, 1, 1)
    assert bulk["error_rate"] == round(1 / 3, 5)  # the missed abuser
    aged = rows[("messaging", "bulk", "aged_number")]
    assert (aged["rows"], aged["review"], aged["allow"]) == (2, 1, 1)
    # A registration row at 0.95 is restricted there (its ban band is closed): a false positive.
    signup = rows[("registration", "casual", "all")]
    assert (signup["restrict"], signup["ban"], signup["error_rate"]) == (1, 0, 1.0)
    assert rows[("feedback", "casual", "voice_notes")]["restrict"] == 1
