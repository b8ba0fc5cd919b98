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


@bench.command("console")
@click.option("--accounts", default=100_000, show_default=True, type=click.IntRange(1))
@click.option("--reviews", default=1000, show_default=True, type=click.IntRange(0))
@click.option("--notices", default=50, show_default=True, type=click.IntRange(0))
@click.option("--requests", default=50, show_default=True, type=click.IntRange(2), help="Per page.")
@click.option(
    "--postgres",
    "postgres_url",
    default=None,
    help="A PostgreSQL server to measure on, in a scratch database made and dropped "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres); SQLite otherwise.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def bench_console(
    accounts: int,
    reviews: int,
    notices: int,
    requests: int,
    postgres_url: str | None,
    as_json: bool,
) -> None:
    """The console's pages (p50, p95) on a seeded database, vs the /healthz round trip."""
    from workers.harness.console_bench import bench_console as run
    from workers.harness.console_bench import console_table

    if reviews > accounts:
        raise click.BadParameter("at most one review case per account", param_hint="--reviews")
    with console.status("seeding a database and timing the console's pages"):
        result = run(
            accounts=accounts,
            reviews=reviews,
            notices=notices,
            requests=requests,
            postgres_url=postgres_url,
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    Console().print(console_table(result))


@bench.command("envelopes")
@click.option("--count", default=5000, show_default=True, type=click.IntRange(100))
@click.option("--rounds", default=5, show_default=True, type=click.IntRange(1))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def bench_envelopes(count: int, rounds: int, as_json: bool) -> None:
    """The checks of every message a worker takes (Redis pops, the consumer's) vs none."""
    from workers.harness.envelope_bench import bench_envelopes as run
    from workers.harness.envelope_bench import envelopes_table

    with console.status("popping envelopes with and without the check"):
        result = run(get_settings().redis_url, count=count, rounds=rounds)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    Console().print(envelopes_table(result))


@bench.command("api")
@click.option("--requests", default=200, show_default=True, type=click.IntRange(1))
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--concurrency", default=32, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--postgres",
    "postgres_url",
    default=None,
    help="A PostgreSQL server to measure on, in a scratch database made and dropped; SQLite "
    "otherwise.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def bench_api(
    requests: int, batch: int, concurrency: int, postgres_url: str | None, as_json: bool
) -> None:
    """The HTTP api under concurrent connections vs send_task, same run; 0 records lost."""
    from workers.harness.api_bench import api_table
    from workers.harness.api_bench import bench_api as run

    with console.status("benchmarking the api"):
        result = run(
            model_cache=get_settings().data_dir / "bench-model",
            requests=requests,
            batch=batch,
            concurrency=concurrency,
            postgres_url=postgres_url,
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        Console().print(api_table(result))
    if result["lost"]:
        raise click.ClickException(f"{result['lost']} accepted records were not scored")
