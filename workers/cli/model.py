"""``bulkguard model``, ``train`` and ``score``: the model registry, training a model and
registering it, and scoring (or backtesting) offline as the workers would decide."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.migrate import upgrade
from infra.db.models import ModelVersion
from infra.db.session import session_scope
from infra.registry import RegistryError, register, serving_versions, set_role
from infra.settings import get_settings
from infra.users import Actor, NotAllowedError
from workers.cli.acting import F, acting, authenticated
from workers.cli.common import console


def _as_admin_to_activate(command: F) -> F:
    return click.option(
        "--as",
        "as_user",
        default=None,
        metavar="NAME",
        help="The admin activating it: needed with --activate or --shadow (token as for "
        "any decision, BULKGUARD_TOKEN).",
    )(command)


@click.command()
@click.option("--accounts", default=40_000, show_default=True, type=click.IntRange(1000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--label-noise", default=0.01, show_default=True, type=click.FloatRange(0, 0.5))
@click.option("--drift", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option(
    "--evasion",
    default=None,
    type=click.FloatRange(0, 1),
    help="Share of simulated abusers that evade [default: 0.3].",
)
@click.option(
    "--review-share",
    default=None,
    type=click.FloatRange(0, 1),
    help="Review budget: the most of a stage's daily traffic the review band may hold "
    "[default: 0.01].",
)
@click.option(
    "--traffic-per-day",
    default=None,
    type=click.IntRange(1),
    help="The traffic level the card states daily volumes at [default: 1000000].",
)
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Train on this labelled JSONL history (records with stage and label) instead.",
)
@click.option("--trees", default=300, show_default=True, type=click.IntRange(10, 5000))
@click.option("--activate/--no-activate", default=False, show_default=True)
@click.option("--shadow", is_flag=True, help="Register as the shadow model instead.")
@_as_admin_to_activate
def train(
    accounts: int,
    seed: int,
    label_noise: float,
    drift: float,
    evasion: float | None,
    review_share: float | None,
    traffic_per_day: int | None,
    data: Path | None,
    trees: int,
    activate: bool,
    shadow: bool,
    as_user: str | None,
) -> None:
    """Train a model on simulated data, or on labelled history with --data, and register it
    (with its model card)."""
    actor = activating(as_user, activate=activate, shadow=shadow)
    from tasks.offline.labelled import LabelledFileError, read_labelled
    from tasks.offline.simulate_accounts import DEFAULT_EVASION
    from tasks.offline.thresholds import ReviewBudget
    from tasks.offline.training import TrainingConfig, train_on_file
    from tasks.offline.training import train as run

    budget = ReviewBudget()
    config = TrainingConfig(
        accounts=accounts,
        seed=seed,
        label_noise=label_noise,
        drift=drift,
        evasion=DEFAULT_EVASION if evasion is None else evasion,
        budget=ReviewBudget(
            share=budget.share if review_share is None else review_share,
            traffic_per_day=traffic_per_day or budget.traffic_per_day,
        ),
        trees=trees,
    )
    with console.status("training"):
        try:
            if data is None:
                model_dir = run(config, get_settings().models_dir)
            else:
                labelled = read_labelled(data)
                _report_rejected_lines(labelled.errors)
                model_dir = train_on_file(labelled, config, get_settings().models_dir)
        except (LabelledFileError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    register_version(model_dir, actor=actor, shadow=shadow)


def _report_rejected_lines(errors: Sequence[Any]) -> None:
    for error in errors[:20]:
        console.print(f"line {error.line} skipped: {error.reason}")
    if len(errors) > 20:
        console.print(f"... and {len(errors) - 20} more lines skipped")


def activating(as_user: str | None, *, activate: bool, shadow: bool) -> Actor | None:
    """The admin who activates the model once registered (None: it stays a candidate),
    proven before anything is trained or read."""
    if not (activate or shadow):
        return None
    if as_user is None:
        raise click.ClickException("--as NAME: activating a model takes an admin")
    return authenticated(as_user, ("admin",))


def register_version(model_dir: Path, *, actor: Actor | None, shadow: bool) -> None:
    """Register the version (committed whatever follows), then give it the role asked for:
    the active role only past the activation check."""
    upgrade()
    try:
        with session_scope() as session:
            version = register(session, model_dir).version
        role = "candidate"
        if actor is not None:
            with session_scope() as session:
                audited = (
                    {}
                    if shadow
                    else checked_activation(
                        session, version, refused_as=(f"{version} stays a candidate")
                    )
                )
                role = set_role(
                    session,
                    version,
                    "shadow" if shadow else "active",
                    actor=actor,
                    audited=audited,
                ).role
    except (RegistryError, NotAllowedError) as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"{version} registered as {role}; card: {model_dir / 'card.md'}")
    click.echo(version)


def checked_activation(
    session: Session,
    version: str,
    *,
    labels: Path | None = None,
    reason: str | None = None,
    force: bool = False,
    refused_as: str = "refused",
) -> dict[str, Any]:
    """The activation check of account model ``version`` against the active model on the same
    held-out data (``labels``, or the simulator's held-out world), its figures printed. A failed
    check stops the command unless ``force``d; returns what the audit record keeps."""
    from xgboost.core import XGBoostError

    from tasks.offline.activation_gate import (
        card_budget,
        compare,
        labelled_held_out,
        simulated_held_out,
    )
    from tasks.offline.labelled import LabelledFileError, read_labelled
    from tasks.scoring.serving import scorer_for

    row = session.get(ModelVersion, version)
    if row is None:
        raise click.ClickException(f"no model version {version!r} is registered")
    active = serving_versions(session).get("active")
    if row.kind != "account" or row.role == "active":
        return {"reason": reason} if reason else {}
    try:
        candidate = scorer_for(session, version)
        current = scorer_for(session, active.version) if active is not None else None
    except (RegistryError, LookupError, ValueError, XGBoostError) as exc:
        raise click.ClickException(f"{version} cannot be scored to check it: {exc}") from exc
    with console.status("scoring both models on the same held-out data"):
        try:
            held_out = (
                simulated_held_out()
                if labels is None
                else labelled_held_out(read_labelled(labels).records, labels.name)
            )
        except LabelledFileError as exc:
            raise click.ClickException(str(exc)) from exc
        report = compare(candidate, current, held_out, budget=card_budget(row.card))
    _print_checks(report)
    audited: dict[str, Any] = {"check": report.as_json()}
    if reason:
        audited["reason"] = reason
    if report.passed:
        return audited
    failed = "; ".join(f"{c.stage} {c.what} {c.candidate} (bar {c.bar})" for c in report.failed)
    if not force:
        raise click.ClickException(
            f"{refused_as}: {len(report.failed)} of {len(report.checks)} checks failed against "
            f"{report.active or 'the targets'} on {report.held_out}: {failed}. An admin may "
            "activate it anyway with `bulkguard model activate VERSION --force --reason TEXT`"
        )
    console.print(f"FORCED past {len(report.failed)} failed checks: {reason}")
    return {**audited, "forced": True}


def _print_checks(report: Any) -> None:
    from rich.table import Table

    table = Table(
        title=f"{report.candidate} against {report.active or 'the targets alone'} on "
        f"{report.held_out}"
    )
    for column in ("stage", "check", "candidate", "active", "bar", ""):
        table.add_column(column)
    for c in report.checks:
        table.add_row(
            c.stage,
            c.what,
            "" if c.candidate is None else str(c.candidate),
            "" if c.active is None else str(c.active),
            c.bar,
            "ok" if c.passed else "FAIL",
        )
    console.print(table)


@click.group()
def model() -> None:
    """The model registry."""


@model.command("list")
def model_list() -> None:
    with session_scope() as session:
        for row in session.scalars(select(ModelVersion).order_by(ModelVersion.created_at)):
            metrics = row.card.get("metrics", {})
            if row.kind == "evidence":
                # The claim reader's figures are per document, on folds of held-out page types.
                click.echo(
                    f"{row.version}\t{row.role}\tevidence\tprecision={metrics.get('precision')}"
                    f"\trecall={metrics.get('recall')}\tthreshold={row.card.get('threshold')}"
                )
                continue
            click.echo(
                f"{row.version}\t{row.role}\troc_auc={metrics.get('roc_auc')}\t"
                f"pr_auc={metrics.get('pr_auc')}"
            )


@model.command("register")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled JSONL history to set its thresholds on and write its card from.",
)
@click.option("--activate/--no-activate", default=False, show_default=True)
@click.option("--shadow", is_flag=True, help="Register as the shadow model instead.")
@_as_admin_to_activate
def model_register(
    path: Path, labels_path: Path, activate: bool, shadow: bool, as_user: str | None
) -> None:
    """Register a model trained elsewhere (an XGBoost file): its features, objective and a
    smoke prediction are checked, and its thresholds and card come from labelled history."""
    actor = activating(as_user, activate=activate, shadow=shadow)
    from tasks.offline.labelled import LabelledFileError, read_labelled
    from tasks.offline.register_model import ModelFileError, register_file

    with console.status("checking and carding the model"):
        try:
            labelled = read_labelled(labels_path)
            _report_rejected_lines(labelled.errors)
            model_dir = register_file(path, labelled, get_settings().models_dir)
        except (LabelledFileError, ModelFileError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    register_version(model_dir, actor=actor, shadow=shadow)


@model.command("drift")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.option("--history", default=1, show_default=True, type=click.IntRange(1, 1000))
def model_drift(as_json: bool, history: int) -> None:
    """The latest drift checks per detection point: the PSI of the live scores and of the most
    moved signal feature against the active model's training data. Above 0.1: watch; above
    0.25: alert (retrain, or backtest the thresholds on recent labels)."""
    from infra.db.models import DriftCheck

    shown: list[dict[str, Any]] = []
    with session_scope() as session:
        for stage in ("registration", "messaging", "feedback"):
            rows = session.scalars(
                select(DriftCheck)
                .where(DriftCheck.stage == stage)
                .order_by(DriftCheck.checked_at.desc(), DriftCheck.id.desc())
                .limit(history)
            )
            shown += [
                {
                    "stage": r.stage,
                    "checked_at": r.checked_at.isoformat(timespec="seconds"),
                    "model_version": r.model_version,
                    "records": r.records,
                    "score_psi": r.score_psi,
                    "worst_feature": r.worst_feature,
                    "worst_psi": r.worst_psi,
                    "level": r.level,
                }
                for r in rows
            ]
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    if not shown:
        click.echo("no drift check yet (beat runs maintenance.check_drift hourly)")
    for r in shown:
        click.echo(
            f"{r['stage']}\t{r['checked_at']}\t{r['level'].upper()}\tscore PSI {r['score_psi']}"
            f"\t{r['worst_feature']} PSI {r['worst_psi']}\t{r['records']} records\t"
            f"{r['model_version']}"
        )


@model.command("activate")
@click.argument("version")
@click.option("--shadow", is_flag=True, help="Score beside the active model without acting.")
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Check both models on this labelled JSONL history instead of the simulator's "
    "held-out world.",
)
@click.option("--force", is_flag=True, help="Activate even if the check fails (with --reason).")
@click.option("--reason", default=None, help="Why, kept in the audit record.")
@acting("admin")
def model_activate(
    version: str,
    shadow: bool,
    labels: Path | None,
    force: bool,
    reason: str | None,
    actor: Actor,
) -> None:
    """Make VERSION the active (or shadow) model; running workers pick it up within seconds.

    Before it becomes active, VERSION and the active model score the same held-out data, and
    VERSION is refused if it loses ROC-AUC, misses a band's precision target, sends a benign
    population over its cap or scores traffic very differently (docs/model.md)."""
    if force and not (reason and reason.strip()):
        raise click.UsageError("--force needs --reason: why the check is overruled")
    try:
        with session_scope() as session:
            audited = (
                {}
                if shadow
                else checked_activation(session, version, labels=labels, reason=reason, force=force)
            )
            row = set_role(
                session, version, "shadow" if shadow else "active", actor=actor, audited=audited
            )
            click.echo(f"{row.version} is now {row.role}")
    except (RegistryError, NotAllowedError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.command()
@click.argument("path", type=click.File("rb"))
@click.option("--model", "version", default=None, help="A registered version; default: active.")
@click.option("--out", type=click.File("wb"), default="-", show_default=True)
@click.option(
    "--labels",
    "labelled",
    is_flag=True,
    help="The records carry `label`: report precision, recall and volume per stage and band.",
)
@click.option(
    "--compare", default=None, help="With --labels: also this version, and where the two disagree."
)
def score(path: Any, version: str | None, out: Any, labelled: bool, compare: str | None) -> None:
    """Score a JSONL file of account records offline, as the workers would decide them; with
    --labels, backtest a version (or two) on labelled history instead."""
    from tasks.offline.score_file import LineError, score_lines
    from tasks.scoring.serving import NoActiveModelError, active_scorer, scorer_for

    try:
        with session_scope() as session:
            scorer = scorer_for(session, version) if version else active_scorer(session)
            other = scorer_for(session, compare) if compare else None
    except (NoActiveModelError, LookupError) as exc:
        raise click.ClickException(str(exc)) from exc
    if labelled:
        _backtest(path, scorer, other, out)
        return
    if other is not None:
        raise click.UsageError("--compare needs --labels")
    scored = errors = 0
    for result in score_lines(path, scorer):
        if isinstance(result, LineError):
            errors += 1
            console.print(f"line {result.line}: {result.reason}")
            continue
        out.write(orjson.dumps(result) + b"\n")
        scored += 1
    console.print(f"scored {scored} accounts with {scorer.version}; {errors} lines rejected")


def _backtest(path: Any, scorer: Any, other: Any, out: Any) -> None:
    from rich.table import Table

    from tasks.offline.backtest import BANDS, backtest, disagreements
    from tasks.offline.labelled import parse_lines

    found = parse_lines(path)
    _report_rejected_lines(found.errors)
    if not found.records:
        raise click.ClickException("no valid labelled record in the file")
    results = [backtest(found.records, s) for s in (scorer, other) if s is not None]
    report: dict[str, Any] = {
        "records": len(found.records),
        "versions": [r.as_json() for r in results],
    }
    if len(results) == 2:
        report["disagreements"] = disagreements(found.records, results[0], results[1])
    out.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    for result in results:
        table = Table(title=f"{result.version} on {len(found.records)} labelled records")
        for column in ("stage", "band", "flagged", "share", "precision", "recall"):
            table.add_column(column, justify="left" if column in ("stage", "band") else "right")
        for stage, figures in result.stages.items():
            for band in BANDS:
                f = figures[band]
                table.add_row(
                    stage,
                    band,
                    str(f["flagged"]),
                    str(f["share"]),
                    "n/a" if f["precision"] is None else str(f["precision"]),
                    str(f["recall"]),
                )
        console.print(table)
    if "disagreements" in report:
        d = report["disagreements"]
        console.print(f"the versions decide {d['differ']} of {d['records']} records differently")
