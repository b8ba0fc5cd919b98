"""The operator CLI, ``bulkguard --help``: the root command and the commands under it.

Each command group lives in the module named after it (``bulkguard review ...`` in
``workers/cli/review.py``); single commands live alone or beside their kin, as listed below.
"""

from __future__ import annotations

import click

from infra.redaction import install_for_command_line
from workers.cli.appeal import appeal
from workers.cli.appeals import appeals
from workers.cli.bench import bench
from workers.cli.breaker import breaker
from workers.cli.chaos import chaos
from workers.cli.companies import companies
from workers.cli.console import console
from workers.cli.db import db
from workers.cli.dead_letters import dead_letters
from workers.cli.decisions import decisions
from workers.cli.deliveries import deliveries
from workers.cli.evidence import evidence
from workers.cli.flower import flower
from workers.cli.health import health
from workers.cli.labels import labels
from workers.cli.legal import legal
from workers.cli.metrics import metrics
from workers.cli.model import model, score, train
from workers.cli.pipeline import demo, enqueue, schema, simulate
from workers.cli.policy import policy
from workers.cli.report import report
from workers.cli.review import review
from workers.cli.status import log_ref, status
from workers.cli.users import users


@click.group()
def main() -> None:
    """bulkguard: enforcement back end against automated and bulk messaging."""
    # Warnings and tracebacks printed by any command go through the same masking as worker logs.
    install_for_command_line()


for command in (
    appeal,
    appeals,
    bench,
    breaker,
    chaos,
    companies,
    console,
    db,
    dead_letters,
    decisions,
    deliveries,
    demo,
    enqueue,
    evidence,
    flower,
    health,
    labels,
    legal,
    log_ref,
    metrics,
    model,
    policy,
    report,
    review,
    schema,
    score,
    simulate,
    status,
    train,
    users,
):
    main.add_command(command)
