"""How well evidence analysis does on a labelled set: precision and recall per field.

Two sets are read. The project's first set (``data/evidence-eval.jsonl``): JSONL, one document
per line with ``id``, ``lang``, ``style``, ``text``, optional ``url``, and ``expected`` with the
fields of ``bulkguard evidence analyze``. The corpus (``data/corpus/<writer>-<lang>.jsonl``),
written by people who never saw the reader: the same fields plus ``writer`` and ``page_type``
(1 to 24), and in ``expected`` also ``hosts``, ``link_hosts`` and ``placeholders`` (example
numbers and addresses on the page, which must never come back as contacts).

Claims are scored per document; claim kinds, phones, e-mails, hosts, domains and link hosts per
(document, value) pair, so one page with many contacts weighs as much as its contacts do; brand
and document date by exact agreement. Every figure is also given per language, per page type
and per writer: a reader tuned on some writers is judged on the others.
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
from tasks.evidence.reading.indicators import fold, registered_domain

SET_FIELDS = ("claim_kinds", "phones", "emails", "domains", "hosts", "link_hosts")
AGREEMENT_FIELDS = ("brand", "document_date")
# What a document is grouped by in the breakdowns: a field of the record, "?" when absent.
GROUPINGS = ("lang", "page_type", "writer")


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
class Figures:
    """Every score over one group of documents."""

    documents: int = 0
    claims: Counts = field(default_factory=Counts)
    fields: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    agreement: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    # Example numbers and addresses of the page returned as its contacts: must stay 0.
    placeholder_contacts: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "is_claim": self.claims.as_json(),
            **{name: self.fields[name].as_json() for name in SET_FIELDS if name in self.fields},
            **{
                name: {"accuracy": round(right / total, 3) if total else None, "documents": total}
                for name, (right, total) in sorted(self.agreement.items())
            },
            "placeholder_contacts": self.placeholder_contacts,
        }


@dataclass
class Report:
    overall: Figures = field(default_factory=Figures)
    # grouping ("lang", "page_type", "writer") → group value → figures
    groups: dict[str, dict[str, Figures]] = field(
        default_factory=lambda: {name: defaultdict(Figures) for name in GROUPINGS}
    )
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def documents(self) -> int:
        return self.overall.documents

    def as_json(self) -> dict[str, Any]:
        overall = self.overall.as_json()
        return {
            **overall,
            "is_claim_by_language": {
                lang: figures.claims.as_json()
                for lang, figures in sorted(self.groups["lang"].items())
            },
            "by": {
                name: {
                    value: figures.as_json()
                    for value, figures in sorted(groups.items(), key=lambda kv: _order(kv[0]))
                }
                for name, groups in self.groups.items()
            },
            "errors": self.errors,
        }


def _order(value: str) -> tuple[int, str]:
    """Page types in number order, other group values alphabetically."""
    return (int(value), "") if value.isdigit() else (0, value)


def bundled_set() -> list[dict[str, Any]]:
    """The project's first labelled set."""
    data = resources.files("tasks.offline").joinpath("data/evidence-eval.jsonl").read_bytes()
    return _records(data)


def corpus_set() -> list[dict[str, Any]]:
    """The corpus written without sight of the reader, every writer and language."""
    return _folder_set("data/corpus")


def holdout_set() -> list[dict[str, Any]]:
    """Pages by two later writers, noisier, as real pages are: never trained on."""
    return _folder_set("data/holdout")


def _folder_set(folder_name: str) -> list[dict[str, Any]]:
    folder = resources.files("tasks.offline").joinpath(folder_name)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".jsonl")), key=lambda f: f.name)
    return [record for f in files for record in _records(f.read_bytes())]


def _records(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def evaluate(documents: Iterable[dict[str, Any]], model: ClaimModel | None = None) -> Report:
    """The analysis of ``documents`` against their labels; ``model`` decides the claims (None:
    the rules)."""
    report = Report()
    for doc in documents:
        got = analyze(doc["text"], doc.get("url"), model).as_json()
        targets = [report.overall] + [
            report.groups[name][str(doc.get(name, "?"))] for name in GROUPINGS
        ]
        wrong = _score(got, doc["expected"], targets)
        if wrong:
            report.errors.append({"id": doc.get("id"), **wrong})
    return report


def _score(got: dict[str, Any], expected: dict[str, Any], targets: list[Figures]) -> dict[str, Any]:
    """Add one document's outcome to each of ``targets``; what it got wrong."""
    wrong: dict[str, Any] = {}
    claim = {True} if got["is_claim"] else set()
    truth = {True} if expected["is_claim"] else set()
    if claim != truth:
        wrong["is_claim"] = got["is_claim"]
    placeholders = {str(p).lower() for p in expected.get("placeholders") or ()}
    returned = placeholders & {str(v).lower() for v in [*got["phones"], *got["emails"]]}
    if returned:
        wrong["placeholders_returned"] = sorted(returned)
    for figures in targets:
        figures.documents += 1
        figures.claims.add(claim, truth)
        figures.placeholder_contacts += len(returned)
    for name in SET_FIELDS:
        if name not in expected:
            continue  # the first set has no hosts or link hosts
        predicted, wanted = set(got[name]), set(expected[name] or [])
        if name == "domains" and "hosts" in expected:
            # The corpus labels the domains of the publisher's hosts; the analysis's domains are
            # company keys, which also hold its addresses' domains.
            predicted = {d for d in map(registered_domain, got["hosts"]) if d}
        for figures in targets:
            figures.fields[name].add(predicted, wanted)
        if predicted != wanted:
            wrong[name] = {
                "extra": sorted(predicted - wanted),
                "missed": sorted(wanted - predicted),
            }
    for name in AGREEMENT_FIELDS:
        if name not in expected:
            continue
        agree = _same(got[name], expected[name])
        for figures in targets:
            tally = figures.agreement[name]
            tally[0] += agree
            tally[1] += 1
        if not agree:
            wrong[name] = {"got": got[name], "expected": expected[name]}
    return wrong


def _same(got: Any, expected: Any) -> bool:
    if got is None or expected is None:
        return got is expected
    return " ".join(fold(str(got)).split()) == " ".join(fold(str(expected)).split())
