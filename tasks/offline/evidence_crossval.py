"""How the claim reader does on pages unlike those it learned from: grouped cross-validation.

Random folds flatter a text model: a writer's pages share phrasing, and pages of one type share
structure, so a page's siblings in the training folds give its answer away. Here the folds hold
out whole page types and, separately, whole writers; each fold trains the model as
``bulkguard evidence train`` does (its calibration and threshold from its own training pages)
and decides the held-out pages. The rules need no training: they read every page as they are.

Figures are claim precision and recall per document, for the rules and the model side by side:
overall and per source (the corpus, the evaluation set written beside the rules, people's
verdicts), per language and per page type over the corpus.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.model_selection import GroupKFold

from tasks.offline.evidence_training import (
    Prepared,
    TrainingSettings,
    page_type_groups,
    train_rows,
    writer_groups,
)

READERS = ("rules", "model")
PAGE_TYPE_FOLDS = 8


@dataclass
class Tally:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0

    def add(self, predicted: bool, expected: bool) -> None:
        if predicted and expected:
            self.true_positive += 1
        elif predicted:
            self.false_positive += 1
        elif expected:
            self.false_negative += 1
        else:
            self.true_negative += 1

    @property
    def precision(self) -> float | None:
        flagged = self.true_positive + self.false_positive
        return round(self.true_positive / flagged, 3) if flagged else None

    @property
    def recall(self) -> float | None:
        claims = self.true_positive + self.false_negative
        return round(self.true_positive / claims, 3) if claims else None

    def as_json(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "true_positive": self.true_positive,
            "false_positive": self.false_positive,
            "false_negative": self.false_negative,
            "true_negative": self.true_negative,
        }


def _tallies() -> defaultdict[str, Tally]:
    return defaultdict(Tally)


@dataclass
class Breakdown:
    """One reader's decisions counted overall, per source, per language and per page type."""

    overall: Tally = field(default_factory=Tally)
    by_source: defaultdict[str, Tally] = field(default_factory=_tallies)
    by_language: defaultdict[str, Tally] = field(default_factory=_tallies)
    by_page_type: defaultdict[str, Tally] = field(default_factory=_tallies)

    def as_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall.as_json(),
            **{
                name: {key: t.as_json() for key, t in sorted(tallies.items(), key=_order)}
                for name, tallies in (
                    ("by_source", self.by_source),
                    ("by_language", self.by_language),
                    ("by_page_type", self.by_page_type),
                )
            },
        }


def _order(item: tuple[str, Tally]) -> tuple[int, str]:
    """Page types by number, then the evaluation set's styles; other keys alphabetically."""
    key = item[0]
    return (int(key), "") if key.isdigit() else (1000, key)


def source_of(page_type: str) -> str:
    if page_type == "verdict":
        return "verdicts"
    return "evaluation set" if page_type.startswith("style:") else "corpus"


def breakdown(
    data: Prepared, rows: npt.NDArray[np.intp], predicted: npt.NDArray[np.bool_]
) -> Breakdown:
    """``predicted`` (per row of ``rows``) against the labels."""
    out = Breakdown()
    for row, decision in zip(rows, predicted, strict=True):
        doc = data.documents[row]
        source = source_of(doc.page_type)
        for tally in (out.overall, out.by_source[source]):
            tally.add(bool(decision), doc.label)
        if source == "corpus":
            out.by_language[doc.language].add(bool(decision), doc.label)
        if source != "verdicts":
            out.by_page_type[doc.page_type].add(bool(decision), doc.label)
    return out


@dataclass
class CrossValidation:
    held_out: str  # "page type" or "writer"
    folds: int
    readers: dict[str, Breakdown]  # by reader: "rules", "model"
    thresholds: list[float]  # each fold's model's threshold

    def as_json(self) -> dict[str, Any]:
        return {
            "held_out": self.held_out,
            "folds": self.folds,
            "thresholds": [round(t, 4) for t in self.thresholds],
            **{reader: b.as_json() for reader, b in self.readers.items()},
        }


HELD_OUT: dict[str, Callable[[Prepared], list[str]]] = {
    "page type": page_type_groups,
    "writer": writer_groups,
}


def cross_validate(
    data: Prepared, held_out: str, settings: TrainingSettings | None = None
) -> CrossValidation:
    """Rules and model on every document, the model trained without the document's page type
    (eight folds of whole page types) or without its writer (one fold per writer)."""
    settings = settings or TrainingSettings()
    groups = np.array(HELD_OUT[held_out](data))
    folds = len(set(groups)) if held_out == "writer" else min(PAGE_TYPE_FOLDS, len(set(groups)))
    predicted = np.zeros(len(data), dtype=bool)
    thresholds = []
    inner_groups = page_type_groups(data)
    for train, test in GroupKFold(n_splits=folds).split(groups, groups=groups):
        trained = train_rows(data, train, inner_groups, settings)
        probabilities = trained.calibration.probability(trained.fitted.logits(data, test))
        predicted[test] = probabilities >= trained.threshold
        thresholds.append(trained.threshold)
    rows = np.arange(len(data))
    return CrossValidation(
        held_out=held_out,
        folds=folds,
        readers={
            "rules": breakdown(data, rows, data.rules),
            "model": breakdown(data, rows, predicted),
        },
        thresholds=thresholds,
    )


def side_by_side(results: Sequence[CrossValidation]) -> list[list[str]]:
    """Rows of a table: the part of the data, then for each result rules and model as
    precision/recall."""
    first = results[0].readers["rules"]
    keys = [("all", "overall", "")]
    keys += [("source", "by_source", k) for k in sorted(first.by_source)]
    keys += [("language", "by_language", k) for k in sorted(first.by_language)]
    keys += [
        ("page type", "by_page_type", k) for k, _ in sorted(first.by_page_type.items(), key=_order)
    ]
    table = []
    for part, attribute, key in keys:
        row = [part, key or "all"]
        for result in results:
            for reader in READERS:
                found = getattr(result.readers[reader], attribute)
                tally = found if not key else found[key]
                row.append(_pr(tally))
        table.append(row)
    return table


def _pr(tally: Tally) -> str:
    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return f"{show(tally.precision)} / {show(tally.recall)}"
