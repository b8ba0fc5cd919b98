"""``bulkguard simulate``, ``schema``, ``enqueue`` and ``demo``: what goes into the pipeline, and
the whole pipeline run end to end on one machine."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console

from workers.cli.common import console


@click.command()
@click.option("--accounts", default=10_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--report",
    default="data/demo-report.json",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--keep-running",
    is_flag=True,
    help="After the report, keep the workers and Flower up until Ctrl-C.",
)
def demo(accounts: int, seed: int, report: Path, keep_running: bool) -> None:
    """Run the whole pipeline end to end on a simulated population, with Flower beside it."""
    from workers.harness.demo import run_demo

    run_demo(accounts, seed, report, Console(), keep_running=keep_running)


@click.command()
@click.option("--accounts", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--stages", type=click.Choice(["mixed", "all"]), default="mixed", show_default=True)
@click.option("--label-noise", default=0.0, show_default=True, type=click.FloatRange(0, 0.5))
@click.option("--drift", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--out", type=click.File("wb"), default="-")
def simulate(
    accounts: int, seed: int, stages: str, label_noise: float, drift: float, out: Any
) -> None:
    """Write simulated account signals as JSONL (one scoring record per line)."""
    from tasks.offline.simulate_accounts import simulate as run

    for record in run(accounts, seed, stages=stages, label_noise=label_noise, drift=drift):
        out.write(orjson.dumps(record) + b"\n")


@click.command()
def schema() -> None:
    """Print the JSON Schema of the scoring payload."""
    from tasks.accounts.signals import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@click.command()
@click.argument("path", type=click.File("rb"))
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 10_000))
def enqueue(path: Any, batch: int) -> None:
    """Send a JSONL file of scoring records to the workers, by task name, in batches of one
    stage, as an upstream service would; the workers validate each record."""
    from tasks.accounts.signals import batches_by_stage
    from tasks.messages import ScoreAccounts
    from workers.celery_app import app

    sent = 0
    for stage, records in batches_by_stage(_scoring_lines(path), batch):
        app.send_task(ScoreAccounts.TASK, kwargs={"stage": stage, "accounts": records})
        sent += len(records)
    console.print(f"enqueued {sent} records")


def _scoring_lines(lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The records of a JSONL file, one per non-empty line; a line that is not a JSON object
    with a ``stage`` stops the command, naming the line."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            str(record["stage"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise click.ClickException(f"line {number}: not a scoring record ({exc})") from exc
        yield record
