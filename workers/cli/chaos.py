"""``bulkguard chaos``: fault trials (``workers.harness.chaos``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console


@click.command()
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="A scenario to run (repeatable); all of them by default. 'soak' runs the soak instead.",
)
@click.option("--trials", default=3, show_default=True, type=click.IntRange(1))
@click.option("--accounts", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--broker", type=click.Choice(["redis", "rabbitmq"]), default="redis")
@click.option("--rabbitmq-url", default="amqp://guest:guest@127.0.0.1:5672//", show_default=True)
@click.option("--database", type=click.Choice(["sqlite", "postgresql"]), default="sqlite")
@click.option("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
@click.option("--patience", default=120.0, show_default=True, help="Seconds a trial may take.")
@click.option(
    "--production-timeouts",
    is_flag=True,
    help="Production's visibility timeout, outbox and delivery waits instead of the trials' "
    "short ones (actions are still released at once).",
)
@click.option("--seed", default=7, show_default=True)
@click.option("--workdir", type=click.Path(path_type=Path), default=None)
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None)
def chaos(
    scenarios: tuple[str, ...],
    trials: int,
    accounts: int,
    broker: str,
    rabbitmq_url: str,
    database: str,
    postgres_url: str,
    patience: float,
    production_timeouts: bool,
    seed: int,
    workdir: Path | None,
    json_path: Path | None,
) -> None:
    """Fault trials with real processes on loopback: per scenario, the accounts sent and
    scored, the effects lost and doubled, the worker deaths and the recovery time."""
    from workers.harness.chaos import trials as chaos_trials
    from workers.harness.chaos.run import (
        cluster_on_loopback,
        print_table,
        run_trials,
        soak,
        write_json,
    )

    out = Console(width=160)
    soaking = "soak" in scenarios
    try:
        chosen = chaos_trials.names(
            [s for s in scenarios if s != "soak"]
            or ([] if soaking else list(chaos_trials.SCENARIOS))
        )
    except KeyError as exc:
        raise click.UsageError(str(exc.args[0])) from exc
    with cluster_on_loopback(
        workdir,
        broker_url=rabbitmq_url if broker == "rabbitmq" else None,
        postgres_url=postgres_url if database == "postgresql" else None,
        production_timeouts=production_timeouts,
    ) as (cluster, app):
        payload: dict[str, Any] = {
            "broker": broker,
            "database": database,
            "timeouts": "production" if production_timeouts else "trial",
        }
        if chosen:
            results = run_trials(
                cluster,
                app,
                chosen,
                trials=trials,
                accounts=accounts,
                seed=seed,
                patience=patience,
                console=out,
            )
            print_table(out, results, broker, database, payload["timeouts"])
            payload["scenarios"] = [r.row() for r in results]
        if soaking:
            payload["soak"] = soak(
                cluster, app, accounts=accounts, seed=seed, interval=30.0, console=out
            )
            out.print(payload["soak"])
    if json_path is not None:
        write_json(json_path, payload)
    if any(
        row["effects_lost"] or row["effects_duplicated"] for row in payload.get("scenarios", [])
    ):
        sys.exit(1)
