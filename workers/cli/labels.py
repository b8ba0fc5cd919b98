"""``bulkguard labels``: what people's decisions taught, as history to train on."""

from __future__ import annotations

from typing import Any

import click

from infra.db.session import session_scope
from workers.cli.common import console


@click.group()
def labels() -> None:
    """Labels earned from people's decisions on reviews and appeals."""


@labels.command("export")
@click.option("--out", type=click.File("wb"), default="-", show_default=True)
def labels_export(out: Any) -> None:
    """Write every labelled record as JSONL that `bulkguard train --data` reads: the record the
    model scored, its stage, the label and where it came from."""
    import orjson

    from tasks.offline.labels_export import export

    written = 0
    with session_scope() as session:
        for line in export(session):
            out.write(orjson.dumps(line) + b"\n")
            written += 1
    console.print(f"exported {written} labelled records")
