"""Offline scoring of a JSONL file with the workers' own code: backtests and model comparisons.

Each line is one account record in the payload format with its ``stage``. Consecutive lines of
one stage are scored together, in file order, through ``score_records``; neighbourhood counters
are replayed in memory from the file itself, so an offline run never touches the live counters
in Redis. Scoring the same file with two versions compares them on identical inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from tasks.accounts.signals import RecordError, StagedAccount, parse_record
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.scoring.inference import score_records
from tasks.scoring.model import Scorer

BATCH = 1000


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


def score_lines(lines: Iterable[bytes], scorer: Scorer) -> Iterator[dict[str, Any] | LineError]:
    """Yield one result per account (or a LineError for a line that is not a valid record)."""
    errors: list[LineError] = []
    now = dt.datetime.now(dt.UTC)  # records observed later than the file is read are refused

    def records() -> Iterator[StagedAccount]:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield parse_record(orjson.loads(line), StagedAccount, now=now)
            except orjson.JSONDecodeError as exc:
                errors.append(LineError(number, f"not JSON: {exc}"))
            except RecordError as exc:
                errors.append(LineError(number, str(exc)))

    for result in score_in_order(records(), scorer):
        # A bad line is reported when the batch it was read in has been scored.
        yield from errors
        errors.clear()
        yield result
    yield from errors


def score_in_order(
    records: Iterable[StagedAccount], scorer: Scorer, *, explain: bool = True
) -> Iterator[dict[str, Any]]:
    """One result per record: consecutive records of one stage are scored together, in order,
    with neighbourhood counters replayed in memory from the records themselves."""
    store = MemoryNeighbourStore()
    pending: list[StagedAccount] = []

    def flush() -> Iterator[dict[str, Any]]:
        if not pending:
            return
        stage = pending[0].stage
        batch = score_records(stage, pending, scorer, None, store, explain=explain)
        acting = batch.acting
        for i, record in enumerate(batch.records):
            out: dict[str, Any] = {
                "account_id": record.account_id,
                "stage": stage.value,
                "score": round(float(acting.scores[i]), 6),
                "decision": acting.decisions[i],
                "model_version": acting.version,
            }
            if i in acting.reasons:
                out["reasons"] = acting.reasons[i]
            yield out
        pending.clear()

    for record in records:
        if pending and (record.stage is not pending[0].stage or len(pending) >= BATCH):
            yield from flush()
        pending.append(record)
    yield from flush()
