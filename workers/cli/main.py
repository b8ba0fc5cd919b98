"""The operator CLI, ``bulkguard --help``: the root command and the commands under it.

Each command group lives in the module named after it (``bulkguard review ...`` in
``workers/cli/review.py``); single commands live alone or beside their kin, as listed below.
A command's module is imported when the command runs (or when help lists it): one command does
not pay for the others' imports, such as the scoring stack's XGBoost for ``evidence analyze``.
"""

from __future__ import annotations

import importlib

import click

from infra.redaction import install_for_command_line

# Every command: its name, and the module and attribute it is defined as.
COMMANDS = {
    "api": "api:api",
    "api-keys": "api_keys:api_keys",
    "appeal": "appeal:appeal",
    "appeals": "appeals:appeals",
    "bench": "bench:bench",
    "breaker": "breaker:breaker",
    "chaos": "chaos:chaos",
    "companies": "companies:companies",
    "console": "console:console",
    "db": "db:db",
    "dead-letters": "dead_letters:dead_letters",
    "decisions": "decisions:decisions",
    "deliveries": "deliveries:deliveries",
    "demo": "pipeline:demo",
    "enqueue": "pipeline:enqueue",
    "evidence": "evidence:evidence",
    "flower": "flower:flower",
    "health": "health:health",
    "keys": "keys:keys",
    "labels": "labels:labels",
    "legal": "legal:legal",
    "log-ref": "status:log_ref",
    "metrics": "metrics:metrics",
    "model": "model:model",
    "policy": "policy:policy",
    "report": "report:report",
    "retention": "retention:retention",
    "review": "review:review",
    "schema": "pipeline:schema",
    "score": "model:score",
    "simulate": "pipeline:simulate",
    "status": "status:status",
    "subject": "subject:subject",
    "train": "model:train",
    "users": "users:users",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported by name when they are asked for."""

    # Click's signatures: the context is not needed to find a command.
    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, attribute = where.split(":")
        command = getattr(importlib.import_module(f"workers.cli.{module}"), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"workers.cli.{module}.{attribute} is not a command")
        return command


@click.group(cls=_LazyGroup)
def main() -> None:
    """bulkguard: enforcement back end against automated and bulk messaging."""
    # Warnings and tracebacks printed by any command go through the same masking as worker logs.
    install_for_command_line()
