"""The evidence model's card, and the version directory it is registered from: what
``bulkguard evidence train`` and the demo write.

The card says what the model learned from (each file with its SHA-256), how it was trained, its
threshold and calibration, and how it and the rules decide the training pages out of fold (the
folds holding out whole page types), overall, per language and per page type.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from infra.registry import versions_dir
from tasks.evidence.reading.claim_model import ClaimModel
from tasks.offline.evidence_crossval import breakdown, source_of
from tasks.offline.evidence_documents import DocumentFile
from tasks.offline.evidence_training import Prepared, Trained, TrainingSettings, prepare, train


def build_card(
    model: ClaimModel,
    files: Sequence[DocumentFile],
    data: Prepared,
    trained: Trained,
    settings: TrainingSettings,
) -> dict[str, Any]:
    rows = np.arange(len(data))
    held_out = breakdown(data, rows, trained.probabilities >= trained.threshold)
    rules = breakdown(data, rows, data.rules)
    return {
        "version": model.version,
        "kind": "evidence",
        "artifact": "model.json",
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "threshold": round(model.threshold, 6),
        "precision_target": settings.precision_target,
        "calibration": asdict(trained.calibration),
        "data": {
            "files": [f.describe() for f in files],
            "documents": len(data),
            "claims": int(data.labels.sum()),
            "languages": dict(sorted(Counter(d.language for d in data.documents).items())),
            "sources": dict(
                sorted(Counter(source_of(d.page_type) for d in data.documents).items())
            ),
        },
        "training": {**asdict(settings), "ngrams": len(trained.fitted.columns)},
        "metrics": {
            "held_out": "page type",
            "precision": held_out.overall.precision,
            "recall": held_out.overall.recall,
            "model": held_out.as_json(),
            "rules": rules.as_json(),
        },
    }


def train_version(
    files: Sequence[DocumentFile], models_dir: Path, settings: TrainingSettings | None = None
) -> tuple[Path, dict[str, Any]]:
    """Train on every document of ``files`` and write the version: its directory and card."""
    settings = settings or TrainingSettings()
    data = prepare([d for f in files for d in f.documents])
    model, trained = train(data, settings)
    card = build_card(model, files, data, trained, settings)
    return write_version(models_dir, model, card), card


def write_version(models_dir: Path, model: ClaimModel, card: dict[str, Any]) -> Path:
    """``<models_dir>/evidence/<version>/`` with ``model.json``, ``card.json`` and ``card.md``."""
    out = versions_dir(models_dir, "evidence") / model.version
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.json").write_bytes(orjson.dumps(model.spec))
    (out / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    (out / "card.md").write_text(render(card))
    return out


def render(card: dict[str, Any]) -> str:
    data, metrics = card["data"], card["metrics"]
    lines = [
        f"# Evidence model card: {card['version']}",
        "",
        f"Trained {card['created_at']} on {data['documents']} labelled documents "
        f"({data['claims']} claims): "
        + ", ".join(f"{n} from the {source}" for source, n in data["sources"].items())
        + ".",
        "",
        "| file | SHA-256 | documents | claims |",
        "|---|---|---|---|",
        *(
            f"| {f['file']} | `{f['sha256'][:16]}` | {f['documents']} | {f['claims']} |"
            for f in data["files"]
        ),
        "",
        f"Threshold **{card['threshold']:.4f}** on the calibrated probability: the lowest at "
        f"which the out-of-fold decisions keep precision {card['precision_target']}. "
        "Out of fold means scored by a model that did not see the page's type; the threshold "
        "was chosen on these same figures, so they flatter it a little "
        "(`bulkguard evidence evaluate --grouped` holds the threshold out too).",
        "",
        f"Out of fold: precision **{metrics['precision']}**, recall **{metrics['recall']}**.",
        "",
        "| part | rules precision / recall | model precision / recall | documents |",
        "|---|---|---|---|",
    ]
    model, rules = metrics["model"], metrics["rules"]
    for part, key in (("source", "by_source"), ("language", "by_language")):
        lines += [
            _row(f"{part} {name}", rules[key][name], tally) for name, tally in model[key].items()
        ]
    lines += [
        _row(f"page type {name}", rules["by_page_type"][name], tally)
        for name, tally in model["by_page_type"].items()
    ]
    return "\n".join(lines) + "\n"


def _row(name: str, rules: dict[str, Any], model: dict[str, Any]) -> str:
    documents = sum(
        model[k] for k in ("true_positive", "false_positive", "false_negative", "true_negative")
    )
    return f"| {name} | {_pr(rules)} | {_pr(model)} | {documents} |"


def _pr(tally: dict[str, Any]) -> str:
    def show(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return f"{show(tally['precision'])} / {show(tally['recall'])}"
