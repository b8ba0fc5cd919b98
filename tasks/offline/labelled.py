"""Labelled history: account records in the public payload format, each with what it turned out
to be, read from JSONL for training and model registration.

A line is a scoring record with its ``stage``, plus ``label`` (true or 1: abusive), optionally
``label_source`` (who said so: an appeal, a review, a report, a person) and ``weight``. The file
is identified by the SHA-256 of its bytes, so a model card names exactly what it learned from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from msgspec import Meta
from msgspec.structs import force_setattr

from tasks.accounts.signals import RecordError, StagedAccount, parse_record

LabelSource = Literal["appeal", "review", "report", "manual", "other"]


class LabelledRecord(StagedAccount, frozen=True, kw_only=True):
    # 0 and 1 are how most exports write a binary label; anything else is a mistake.
    label: bool | Annotated[int, Meta(ge=0, le=1)]
    label_source: LabelSource = "other"
    weight: Annotated[float, Meta(gt=0, le=1000)] = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        force_setattr(self, "label", bool(self.label))  # read as true or false from here on


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass
class LabelledFile:
    """The valid records of a labelled file (in time order) and what describes the file."""

    name: str
    sha256: str
    records: list[LabelledRecord]
    errors: list[LineError] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """What a model card says of its data."""
        observed = [r.observed_at for r in self.records]
        sources = Counter(r.label_source for r in self.records)
        return {
            "source": "labelled file",
            "file": self.name,
            "sha256": self.sha256,
            "rows": len(self.records),
            "rejected_lines": len(self.errors),
            "accounts": len({r.account_id for r in self.records}),
            "abusive": sum(r.label for r in self.records),
            "period": {
                "first": min(observed).astimezone(dt.UTC).isoformat(timespec="seconds"),
                "last": max(observed).astimezone(dt.UTC).isoformat(timespec="seconds"),
            },
            "label_sources": dict(sorted(sources.items())),
            "weighted": any(r.weight != 1.0 for r in self.records),
            "stages": dict(sorted(Counter(r.stage.value for r in self.records).items())),
        }


class LabelledFileError(ValueError):
    """A file that cannot be learned from, with the reason."""


def read_labelled(path: Path) -> LabelledFile:
    """Every valid line of ``path``; invalid lines are listed with their reasons. Refuses a
    file with no valid line, or with only one class (nothing to tell apart)."""
    raw = path.read_bytes()
    found = parse_lines(raw.splitlines())
    found.name, found.sha256 = path.name, hashlib.sha256(raw).hexdigest()
    if not found.records:
        first = f"; line {found.errors[0].line}: {found.errors[0].reason}" if found.errors else ""
        raise LabelledFileError(f"{path.name}: no valid labelled record{first}")
    classes = {r.label for r in found.records}
    if len(classes) < 2:
        only = "abusive" if True in classes else "benign"
        raise LabelledFileError(f"{path.name}: every record is labelled {only}; need both")
    return found


def parse_lines(lines: Iterable[bytes]) -> LabelledFile:
    records: list[LabelledRecord] = []
    errors: list[LineError] = []
    now = dt.datetime.now(dt.UTC)  # records observed later than the file is read are refused
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(parse_record(orjson.loads(line), LabelledRecord, now=now))
        except orjson.JSONDecodeError as exc:
            errors.append(LineError(number, f"not JSON: {exc}"))
        except RecordError as exc:
            errors.append(LineError(number, str(exc)))
    # Replayed in time order, as the neighbourhood counters saw them.
    records.sort(key=lambda r: r.observed_at)
    return LabelledFile(name="", sha256="", records=records, errors=errors)
