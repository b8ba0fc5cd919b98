"""``bulkguard bench``: benchmarks (``workers.harness.bench``)."""

from __future__ import annotations

import json

import click
from rich.console import Console

from infra.settings import get_settings
from workers.cli.common import console


@click.group()
def bench() -> None:
    """Benchmarks that report ratios against a baseline measured in the same run."""


@bench.command("scoring")
@click.option("--accounts", default=20_000, show_default=True, type=click.IntRange(1000))
@click.option("--latency-samples", default=200, show_default=True, type=click.IntRange(10))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def bench_scoring(accounts: int, latency_samples: int, as_json: bool) -> None:
    """Scoring end to end (Redis, two solo scoring workers, SQLite) vs raw XGBoost prediction."""
    from workers.harness.bench import bench_scoring as run
    from workers.harness.bench import results_table

    with console.status("benchmarking scoring"):
        result = run(
            model_cache=get_settings().data_dir / "bench-model",
            accounts=accounts,
            latency_samples=latency_samples,
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    Console().print(results_table(result))
