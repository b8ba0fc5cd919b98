"""The model card: what a model was trained on and how it does, as JSON, Markdown and plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import precision_recall_curve


def write_card(
    out: Path, card: dict[str, Any], labels: npt.NDArray[np.int8], scores: npt.NDArray[np.float32]
) -> None:
    """Write ``card.json``, ``card.md`` and the plots of held-out ``labels`` and ``scores``."""
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    (out / "card.md").write_text(render_card_markdown(card))
    write_plots(out, labels, scores)


def render_card_markdown(card: dict[str, Any]) -> str:
    m = card["metrics"]
    lines = [
        f"# Model card: {card['version']}",
        "",
        f"Trained {card['created_at']} on {describe_data(card['data'])}; "
        f"split {card['data']['split']}.",
        "",
        f"Held-out test: ROC-AUC **{m['roc_auc']}**, PR-AUC **{m['pr_auc']}** "
        f"({card['data']['test_rows']} rows, true labels).",
        "",
        "## Thresholds and held-out performance per detection point",
        "",
        "Thresholds are chosen on the validation split for the precision targets "
        f"{card['precision_targets']}, then the lowest open band is raised to keep benign "
        "populations under their caps (restrict or worse; review or worse) and the review band "
        "under the review budget; a band "
        "that adds no recall over the one above is closed. Recall counts the band and those "
        "above it; the daily volume is the band's own share of the stage's accounts "
        f"{_at_traffic(card)}.",
        "",
        "| stage | band | threshold | precision | recall | FPR | flagged | per day |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stage, sm in m["stages"].items():
        if "bands" not in sm:
            lines.append(f"| {stage} | all closed | 1.0 | | | | {sm['note']} | |")
            continue
        volumes = sm.get("volumes", {})
        for band, bm in sm["bands"].items():
            per_day = volumes.get(band, {}).get("per_day", "")
            lines.append(
                f"| {stage} | {band} | {bm['threshold']} | {bm['precision']} | "
                f"{bm['recall']} | {bm['false_positive_rate']} | {bm['flagged']} | {per_day} |"
            )
    notes = [
        f"{stage}: {n}" for stage, sm in m["stages"].items() for n in sm.get("threshold_notes", [])
    ]
    if notes:
        lines += ["", "Why thresholds moved from the precision targets:", ""]
        lines += [f"- {n}" for n in notes]
    lines += [
        "",
        "## Per population (test split)",
        "",
        "For a benign population the shares are false-positive rates; for an abusive one, recall.",
        "",
        "| population | kind | rows | banned | restricted or worse (cap) | review or worse (cap) |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in m["populations"].items():
        kind = "abusive" if p["abusive"] else ("benign, hard look-alike" if p["hard"] else "benign")
        acted, seen = p["restricted_or_worse"], p["review_or_worse"]
        if "cap" in p:
            acted, seen = f"{acted} ({p['cap']})", f"{seen} ({p['review_cap']})"
        lines.append(f"| {name} | {kind} | {p['rows']} | {p['banned']} | {acted} | {seen} |")
    lines += _confusion_lines(m.get("confusion") or [])
    lines += [
        "",
        "## Features",
        "",
        ", ".join(f"`{f}`" for f in card["features"]),
        "",
        "Plots: `pr_curve.png`, `score_histogram.png`.",
        "",
    ]
    return "\n".join(lines)


def _confusion_lines(table: list[dict[str, Any]]) -> list[str]:
    """Decisions by population and by the habit or evasion tactic behind a hard case."""
    if not table:
        return []
    lines = [
        "",
        "## Decisions by stage, population and tactic (test split)",
        "",
        "Errors are the missed (allow) of an abusive row and any action on a benign one. A row "
        "with several tactics counts under each.",
        "",
        "| stage | population | tactic | rows | allow | review | restrict | ban | error rate |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['stage']} | {r['population']} | {r['tactic']} | {r['rows']} | {r['allow']} "
            f"| {r['review']} | {r['restrict']} | {r['ban']} | {r['error_rate']} |"
        )
    return lines


def _at_traffic(card: dict[str, Any]) -> str:
    budget = card.get("review_budget")
    if not budget:
        return "(no review budget recorded)"
    return (
        f"times {budget['traffic_per_day']:,} scored accounts a day at that stage (review budget "
        f"{budget['share']:.1%} of them; restricted or worse at most "
        f"{budget['casual_cap']:.1%} of casual users and {budget['lookalike_cap']:.1%} of each "
        "benign look-alike population, review or worse at most "
        f"{budget.get('casual_review_cap', budget['casual_cap']):.1%} and "
        f"{budget.get('lookalike_review_cap', budget['lookalike_cap']):.1%})"
    )


def describe_data(data: dict[str, Any]) -> str:
    """The data a model learned from, in one sentence."""
    if data.get("source") == "labelled file":
        period = data["period"]
        sources = ", ".join(f"{k} {v}" for k, v in data["label_sources"].items())
        return (
            f"{data['rows']} labelled rows of {data['accounts']} accounts from `{data['file']}` "
            f"(SHA-256 {data['sha256'][:16]}…, {period['first'][:10]} to {period['last'][:10]}, "
            f"{data['abusive']} abusive; label sources: {sources}"
            f"{'; weighted' if data['weighted'] else ''})"
        )
    return (
        f"{data['rows']} simulated rows ({data['accounts']} accounts x 3 detection points, "
        f"simulator seed {data['simulator_seed']}, label noise {data['label_noise']}, "
        f"drift {data['drift']}, evasion {data.get('evasion', 0.0)}, "
        f"wrong reports {data.get('wrong_reports', 0.0)})"
    )


def write_plots(out: Path, labels: npt.NDArray[np.int8], scores: npt.NDArray[np.float32]) -> None:
    import matplotlib  # noqa: PLC0415 - plotting is only needed when a model is trained

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    precision, recall, _ = precision_recall_curve(labels, scores)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(recall, precision)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall, held-out test split")
    ax.set_ylim(0.5, 1.01)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "pr_curve.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    bins = [i / 50 for i in range(51)]
    ax.hist(scores[labels == 0], bins=bins, alpha=0.6, label="benign", log=True)
    ax.hist(scores[labels == 1], bins=bins, alpha=0.6, label="abusive", log=True)
    ax.set_xlabel("score")
    ax.set_ylabel("rows (log)")
    ax.set_title("Score histogram by class, held-out test split")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "score_histogram.png", dpi=110)
    plt.close(fig)
