"""``bulkguard evidence``: off-platform evidence sent to the workers, a preserved document read
back, the analysis run and evaluated offline, and the claim model trained.

What each command needs is imported inside it: ``evidence analyze`` starts in well under a second
without the database stack unless it looks up the active model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from workers.cli.common import console

if TYPE_CHECKING:
    from infra.dead_letters import Rejection
    from tasks.evidence.reading.claim_model import ClaimModel
    from tasks.offline.evidence_crossval import CrossValidation


@click.group()
def evidence() -> None:
    """Off-platform evidence: analyse documents, evaluate the analysis."""


@evidence.command("add")
@click.argument("path", type=click.File("rb"))
@click.option(
    "--as",
    "as_user",
    default=None,
    metavar="NAME",
    help="Submit them as this user (recorded on each document; token as for any decision). "
    "Without, they are recorded as a crawler's.",
)
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 1000))
def evidence_add(path: Any, as_user: str | None, batch: int) -> None:
    """Send a JSONL file of documents (source, kind, observed_at, url, publisher, title, text,
    content_type) to the evidence workers, by task name; they validate each document.

    A line that is not a UTF-8 JSON object is kept as a dead letter with its reason; the other
    lines are sent."""
    from infra import dead_letters
    from infra.db.session import session_scope
    from infra.dead_letters import Rejection
    from infra.users import ROLES
    from tasks.messages import IngestEvidence
    from workers.celery_app import app
    from workers.cli.acting import authenticated

    submitted_by = authenticated(as_user, ROLES).name if as_user else None
    sent = 0
    pending: list[Any] = []
    rejected: list[Rejection] = []
    for number, line in enumerate(path, 1):
        if not line.strip():
            continue
        doc = _document_line(number, line)
        if isinstance(doc, Rejection):
            rejected.append(doc)
            continue
        if submitted_by:
            doc.setdefault("submitted_by", submitted_by)
        pending.append(doc)
        if len(pending) == batch:
            app.send_task(IngestEvidence.TASK, kwargs={"documents": pending})
            sent, pending = sent + len(pending), []
    if pending:
        app.send_task(IngestEvidence.TASK, kwargs={"documents": pending})
        sent += len(pending)
    if rejected:
        with session_scope() as session:
            dead_letters.store(session, "cli.evidence.add", None, rejected)
        for r in rejected:
            console.print(f"line {r.record_index}: {r.reason}")
    console.print(f"sent {sent} documents; {len(rejected)} lines kept as dead letters")


def _document_line(number: int, line: bytes) -> dict[str, Any] | Rejection:
    """The document on ``line``, or the line rejected with the reason."""
    from infra.dead_letters import Rejection

    line = line.rstrip(b"\r\n")
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = (
            f"not UTF-8 text (byte 0x{line[exc.start]:02x} at offset {exc.start}): "
            "send documents as UTF-8 JSON"
        )
        return Rejection(reason, line, number)
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return Rejection(f"not JSON ({exc})", line, number)
    if not isinstance(doc, dict):
        return Rejection("not a JSON object: one document per line", line, number)
    return doc


@evidence.command("document")
@click.argument("sha256")
@click.option("--out", type=click.File("wb"), default="-", show_default=True)
def evidence_document(sha256: str, out: Any) -> None:
    """Write a preserved document's bytes, as received, by its SHA-256."""
    from infra.db.session import session_scope
    from tasks.evidence.documents import document_bytes

    with session_scope() as session:
        body = document_bytes(session, sha256)
    if body is None:
        raise click.ClickException(f"no document with SHA-256 {sha256}")
    out.write(body)


@evidence.command("analyze")
@click.argument("path", type=click.File("rb"))
@click.option("--out", type=click.File("wb"), default="-", show_default=True)
@click.option(
    "--model",
    "reader",
    default="active",
    show_default=True,
    metavar="active|rules|VERSION",
    help="Who decides the claim: the registry's active evidence model (the rules when none is "
    "active), the rules, or a registered evidence model's version.",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Add every offer cue considered and why it was dropped, and the features that moved "
    "the model's decision most.",
)
def evidence_analyze(path: Any, out: Any, reader: str, explain: bool) -> None:
    """Analyse a JSONL file of {"id", "text"[, "url"]} documents: one JSON result per line."""
    from tasks.evidence.reading.analysis import analyze
    from tasks.evidence.reading.claims import explain as considered

    model = _reading_model(reader)
    console.print(f"read by {model.version if model else 'the rules'}")
    analysed = rejected = 0
    for number, line in enumerate(path, 1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
            text, url = doc["text"], doc.get("url")
            if not isinstance(text, str) or not (url is None or isinstance(url, str)):
                raise TypeError("text must be a string, url a string or null")
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            console.print(f"line {number}: not a document ({exc})")
            rejected += 1
            continue
        found = analyze(text, url, model, explain=EXPLAINED_FEATURES if explain else 0)
        result = {"id": doc.get("id"), **found.as_json()}
        if explain:
            result["considered"] = [
                {"kind": kind, "text": passage, "verdict": verdict}
                for kind, passage, verdict in considered(found.text)
            ]
            if model is not None:
                result["contributions"] = [
                    {"feature": c.feature, "value": c.value, "weight": c.weight}
                    for c in found.contributions
                ]
        out.write(orjson.dumps(result) + b"\n")
        analysed += 1
    console.print(f"analysed {analysed} documents; {rejected} lines rejected")


# How many features --explain lists: the largest pushes on the model's decision, either way.
EXPLAINED_FEATURES = 12


def _reading_model(reader: str) -> ClaimModel | None:
    """The model ``--model`` names; None for the rules."""
    if reader == "rules":
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from infra.db.session import session_scope
    from tasks.evidence.claim_reader import active_model, model_for

    try:
        with session_scope() as session:
            if reader == "active":
                return active_model(session)
            model = model_for(session, reader)
    except SQLAlchemyError as exc:
        if reader != "active":
            raise click.ClickException(f"the model registry cannot be read: {exc}") from exc
        # A fresh data directory has no registry yet: nothing is active there.
        console.print(f"the model registry cannot be read ({type(exc).__name__}): the rules read")
        return None
    if model is None:
        raise click.ClickException(f"no evidence model {reader!r} is registered")
    return model


@evidence.command("train")
@click.option(
    "--data",
    "data_paths",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="More labelled JSONL to learn from, beside the bundled corpus and evaluation set: "
    "pages in the corpus format, or people's verdicts from `bulkguard labels export "
    "--evidence`. Repeatable.",
)
@click.option(
    "--only-data",
    is_flag=True,
    help="Learn from the --data files alone, without the bundled corpus and evaluation set.",
)
@click.option("--activate", is_flag=True, help="Make it the active evidence model.")
@click.option(
    "--as",
    "as_user",
    default=None,
    metavar="NAME",
    help="The admin activating it: needed with --activate (token as for any decision).",
)
def evidence_train(
    data_paths: tuple[Path, ...], only_data: bool, activate: bool, as_user: str | None
) -> None:
    """Train the claim model on the bundled corpus and evaluation set (and --data files), write
    it with its card, and register it as an evidence model."""
    from infra.settings import get_settings
    from tasks.offline.evidence_card import train_version
    from tasks.offline.evidence_documents import bundled_files, read_documents
    from workers.cli.model import activating, register_version

    actor = activating(as_user, activate=activate, shadow=False)
    if only_data and not data_paths:
        raise click.ClickException("--only-data: name the files to learn from with --data")
    files = [*([] if only_data else bundled_files()), *(read_documents(p) for p in data_paths)]
    for error in [e for f in files for e in f.errors][:20]:
        console.print(f"skipped: {error}")
    documents = sum(len(f.documents) for f in files)
    with console.status(f"training on {documents} documents"):
        try:
            model_dir, card = train_version(files, get_settings().models_dir)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    metrics = card["metrics"]
    console.print(
        f"threshold {card['threshold']:.4f}; out of fold on held-out page types: precision "
        f"{metrics['precision']}, recall {metrics['recall']} (rules: "
        f"{metrics['rules']['overall']['precision']}, {metrics['rules']['overall']['recall']})"
    )
    register_version(model_dir, actor=actor, shadow=False)


@evidence.command("evaluate")
@click.argument("path", type=click.File("rb"), required=False)
@click.option(
    "--corpus", is_flag=True, help="The corpus written without sight of the reader (data/corpus)."
)
@click.option(
    "--holdout",
    is_flag=True,
    help="Pages by two later writers that no model trains on (data/holdout).",
)
@click.option(
    "--by",
    type=click.Choice(["lang", "page_type", "writer"]),
    help="Also one row of fact figures per language, page type or writer.",
)
@click.option(
    "--model",
    "reader",
    default="rules",
    show_default=True,
    metavar="rules|active|VERSION",
    help="Who decides the claims, as for `evidence analyze`.",
)
@click.option(
    "--grouped",
    is_flag=True,
    help="Claims only, the rules beside a model trained fold by fold: cross-validation on the "
    "corpus and the first set (and PATH, if given), folds holding out whole page types, then "
    "whole writers.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures (and errors) as JSON.")
def evidence_evaluate(
    path: Any,
    corpus: bool,
    holdout: bool,
    by: str | None,
    reader: str,
    grouped: bool,
    as_json: bool,
) -> None:
    """Precision and recall of the analysis on a labelled JSONL set (default: the project's)."""
    from rich.console import Console
    from rich.table import Table

    if grouped:
        _evaluate_grouped(path, as_json)
        return

    from tasks.offline.evidence_evaluation import (
        SET_FIELDS,
        bundled_set,
        corpus_set,
        evaluate,
        holdout_set,
    )

    if path:
        documents = [orjson.loads(line) for line in path if line.strip()]
    else:
        documents = holdout_set() if holdout else corpus_set() if corpus else bundled_set()
    report = evaluate(documents, _reading_model(reader)).as_json()
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"evidence analysis on {report['documents']} labelled documents")
    for column in ("field", "precision", "recall", "TP", "FP", "FN"):
        table.add_column(column, justify="left" if column == "field" else "right")
    rows = [("is_claim", report["is_claim"])]
    rows += [(f"is_claim ({lang})", c) for lang, c in report["is_claim_by_language"].items()]
    rows += [(name, report[name]) for name in SET_FIELDS if name in report]
    for name, c in rows:
        table.add_row(
            name,
            *(str(c[k]) for k in ("precision", "recall", "true_positive", "false_positive")),
            str(c["false_negative"]),
        )
    for name in ("brand", "document_date"):
        if name in report:
            table.add_row(f"{name} (accuracy)", str(report[name]["accuracy"]), "", "", "", "")
    table.add_row("placeholders returned as contacts", str(report["placeholder_contacts"]))
    Console().print(table)
    if by:
        Console(width=_WIDE).print(_facts_by(report["by"][by], by))


# The per-group table has ten columns of figures: wide enough not to cut them.
_WIDE = 160


def _facts_by(groups: dict[str, Any], name: str) -> Any:
    """One row per group: brand and date accuracy, precision/recall of each contact field."""
    from rich.table import Table

    from tasks.offline.evidence_evaluation import SET_FIELDS

    fields = [f for f in SET_FIELDS if f != "claim_kinds"]
    table = Table(title=f"facts by {name}")
    for column in (name, "docs", "brand", "date", *fields, "placeholders"):
        table.add_column(column, justify="left" if column == name else "right")
    for value, figures in groups.items():
        pairs = [
            f"{figures[f]['precision']}/{figures[f]['recall']}" if f in figures else ""
            for f in fields
        ]
        table.add_row(
            value,
            str(figures["documents"]),
            str(figures.get("brand", {}).get("accuracy")),
            str(figures.get("document_date", {}).get("accuracy")),
            *pairs,
            str(figures["placeholder_contacts"]),
        )
    return table


def _evaluate_grouped(path: Any, as_json: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from tasks.offline.evidence_crossval import cross_validate, side_by_side
    from tasks.offline.evidence_documents import bundled_files, parse_documents
    from tasks.offline.evidence_training import prepare

    files = bundled_files()
    if path is not None:
        files.append(parse_documents(Path(path.name).name, path.read()))
    documents = [d for f in files for d in f.documents]
    results: list[CrossValidation] = []
    with console.status(f"cross-validating on {len(documents)} documents"):
        data = prepare(documents)
        for held_out in ("page type", "writer"):
            results.append(cross_validate(data, held_out))
    if as_json:
        report = {
            "documents": len(documents),
            "files": [f.describe() for f in files],
            "cross_validation": [r.as_json() for r in results],
        }
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    table = Table(
        title=f"claims on {len(documents)} labelled documents, precision / recall, "
        "each page decided by a model that never saw its page type, or its writer"
    )
    table.add_column("part")
    table.add_column("of")
    for result in results:
        for reader in ("rules", "model"):
            table.add_column(f"{reader}, {result.held_out} held out", justify="right")
    for row in side_by_side(results):
        table.add_row(*row)
    Console().print(table)
