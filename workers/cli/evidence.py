"""``bulkguard evidence``: off-platform evidence sent to the workers, a preserved document read
back, and the analysis run and evaluated offline."""

from __future__ import annotations

import json
from typing import Any

import click
import orjson
from rich.console import Console

from infra.db.session import session_scope
from infra.dead_letters import Rejection
from infra.users import ROLES
from workers.cli.acting import authenticated
from workers.cli.common import console


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
    from tasks.messages import IngestEvidence
    from workers.celery_app import app

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
    "--explain", is_flag=True, help="Add every offer cue considered, and why it was dropped."
)
def evidence_analyze(path: Any, out: Any, explain: bool) -> None:
    """Analyse a JSONL file of {"id", "text"[, "url"]} documents: one JSON result per line."""
    from tasks.evidence.reading.analysis import analyze
    from tasks.evidence.reading.claims import explain as considered

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
        found = analyze(text, url)
        result = {"id": doc.get("id"), **found.as_json()}
        if explain:
            result["considered"] = [
                {"kind": kind, "text": passage, "verdict": verdict}
                for kind, passage, verdict in considered(found.text)
            ]
        out.write(orjson.dumps(result) + b"\n")
        analysed += 1
    console.print(f"analysed {analysed} documents; {rejected} lines rejected")


@evidence.command("evaluate")
@click.argument("path", type=click.File("rb"), required=False)
@click.option(
    "--corpus", is_flag=True, help="The corpus written without sight of the reader (data/corpus)."
)
@click.option(
    "--by",
    type=click.Choice(["lang", "page_type", "writer"]),
    help="Also one row of fact figures per language, page type or writer.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures (and errors) as JSON.")
def evidence_evaluate(path: Any, corpus: bool, by: str | None, as_json: bool) -> None:
    """Precision and recall of the analysis on a labelled JSONL set (default: the project's)."""
    from rich.table import Table

    from tasks.offline.evidence_evaluation import SET_FIELDS, bundled_set, corpus_set, evaluate

    if path:
        documents = [orjson.loads(line) for line in path if line.strip()]
    else:
        documents = corpus_set() if corpus else bundled_set()
    report = evaluate(documents).as_json()
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
