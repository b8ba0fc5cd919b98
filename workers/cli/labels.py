"""``bulkguard labels``: what people's decisions taught, as history to train on."""

from __future__ import annotations

from typing import Any

import click

from infra.db.session import session_scope
from workers.cli.common import console


@click.group()
def labels() -> None:
    """Labels earned from people's decisions on reviews, appeals and evidence readings."""


@labels.command("export")
@click.option("--out", type=click.File("wb"), default="-", show_default=True)
@click.option(
    "--kind",
    type=click.Choice(["account", "evidence"]),
    default="account",
    show_default=True,
    help="account: the account model's labels; evidence: people's verdicts on the evidence "
    "reader's readings.",
)
@click.option("--evidence", is_flag=True, help="The same as --kind evidence.")
def labels_export(out: Any, kind: str, evidence: bool) -> None:
    """Write every labelled record as JSONL that `bulkguard train --data` reads: the record the
    model scored, its stage, the label and where it came from. With --kind evidence, one line per
    verdict on a reading of an off-platform document (docs/evidence-and-legal.md)."""
    import orjson

    from tasks.offline.labels_export import evidence_labels, export

    evidence = evidence or kind == "evidence"

    written = 0
    with session_scope() as session:
        for line in evidence_labels(session) if evidence else export(session):
            out.write(orjson.dumps(line) + b"\n")
            written += 1
    what = "verdicts on evidence readings" if evidence else "labelled records"
    console.print(f"exported {written} {what}")
