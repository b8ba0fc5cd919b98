"""How well evidence analysis does on a labelled set: precision and recall per field.

The set is JSONL, one document per line: ``id``, ``lang``, ``style``, ``text``, optional ``url``,
and ``expected`` with the fields of ``bulkguard evidence analyze``. Claims are scored per
document; claim kinds, phones, e-mails and domains per (document, value) pair, so one page with
many contacts weighs as much as its contacts do; brand and document date by exact agreement.
The project's own set is ``tasks/offline/data/evidence-eval.jsonl``; the labelled corpus beside
it (``data/corpus/<writer>-<lang>.jsonl``, written by people who never saw the reader) is in the
same format, with each page's ``writer`` and ``page_type``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import orjson

from tasks.evidence.reading.analysis import analyze
from tasks.evidence.reading.claim_model import ClaimModel
from tasks.evidence.reading.indicators import fold

SET_FIELDS = ("claim_kinds", "phones", "emails", "domains")


@dataclass
class Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    def add(self, predicted: set[Any], expected: set[Any]) -> None:
        self.true_positive += len(predicted & expected)
        self.false_positive += len(predicted - expected)
        self.false_negative += len(expected - predicted)

    def as_json(self) -> dict[str, Any]:
        tp, fp, fn = self.true_positive, self.false_positive, self.false_negative
        return {
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "true_positive": tp,
            "false_positive": fp,
            "false_negative": fn,
        }


@dataclass
class Report:
    documents: int = 0
    claims: Counts = field(default_factory=Counts)
    claims_by_language: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    fields: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    agreement: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "is_claim": self.claims.as_json(),
            "is_claim_by_language": {
                lang: c.as_json() for lang, c in sorted(self.claims_by_language.items())
            },
            **{name: self.fields[name].as_json() for name in SET_FIELDS},
            **{
                name: {"accuracy": round(right / total, 3) if total else None, "documents": total}
                for name, (right, total) in sorted(self.agreement.items())
            },
            "errors": self.errors,
        }


def bundled_set() -> list[dict[str, Any]]:
    data = resources.files("tasks.offline").joinpath("data/evidence-eval.jsonl").read_bytes()
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def corpus_set() -> list[dict[str, Any]]:
    """The labelled corpus, file by file (writer, then language)."""
    folder = resources.files("tasks.offline").joinpath("data/corpus")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".jsonl")), key=lambda f: f.name)
    return [
        orjson.loads(line) for f in files for line in f.read_bytes().splitlines() if line.strip()
    ]


def evaluate(documents: Iterable[dict[str, Any]], model: ClaimModel | None = None) -> Report:
    """The analysis of ``documents`` against their labels; ``model`` decides the claims (None:
    the rules)."""
    report = Report()
    for doc in documents:
        expected = doc["expected"]
        got = analyze(doc["text"], doc.get("url"), model).as_json()
        report.documents += 1
        claim = {True} if got["is_claim"] else set()
        truth = {True} if expected["is_claim"] else set()
        report.claims.add(claim, truth)
        report.claims_by_language[doc.get("lang", "?")].add(claim, truth)
        wrong: dict[str, Any] = {}
        if claim != truth:
            wrong["is_claim"] = got["is_claim"]
        for name in SET_FIELDS:
            predicted, wanted = set(got[name]), set(expected.get(name) or [])
            report.fields[name].add(predicted, wanted)
            if predicted != wanted:
                wrong[name] = {
                    "extra": sorted(predicted - wanted),
                    "missed": sorted(wanted - predicted),
                }
        for name in ("brand", "document_date"):
            if name not in expected:
                continue
            agree = _same(got[name], expected[name])
            tally = report.agreement[name]
            tally[0] += agree
            tally[1] += 1
            if not agree:
                wrong[name] = {"got": got[name], "expected": expected[name]}
        if wrong:
            report.errors.append({"id": doc.get("id"), **wrong})
    return report


def _same(got: Any, expected: Any) -> bool:
    if got is None or expected is None:
        return got is expected
    return " ".join(fold(str(got)).split()) == " ".join(fold(str(expected)).split())
