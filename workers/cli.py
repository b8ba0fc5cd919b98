"""The operator CLI: ``bulkguard --help``."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import orjson
from pydantic import SecretStr
from rich.console import Console
from sqlalchemy import select

from infra.basic_auth import BasicAuth
from infra.db.migrate import upgrade
from infra.db.models import ModelVersion
from infra.db.session import session_scope
from infra.dead_letters import Rejection
from infra.redaction import display_url, install_for_command_line
from infra.registry import RegistryError, register, set_role
from infra.settings import get_settings
from workers.companies_cli import companies
from workers.dead_letters_cli import dead_letters
from workers.decisions_cli import decisions
from workers.deliveries_cli import deliveries
from workers.enforcement_cli import appeal, breaker, policy, report, review
from workers.health_cli import health
from workers.learning_cli import labels
from workers.legal_cli import legal

console = Console(stderr=True)


@click.group()
def main() -> None:
    """bulkguard: enforcement back end against automated and bulk messaging."""
    # Warnings and tracebacks printed by any command go through the same masking as worker logs.
    install_for_command_line()


@main.command()
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
    from workers.demo import run_demo

    run_demo(accounts, seed, report, Console(), keep_running=keep_running)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to DATABASE_URL (or the embedded SQLite file)."""
    upgrade()
    console.print(f"schema at head on {display_url(get_settings().resolved_database_url)}")


@main.command()
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


@main.command()
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
) -> None:
    """Train a model on simulated data, or on labelled history with --data, and register it
    (with its model card)."""
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
    _register(model_dir, activate=activate, shadow=shadow)


def _report_rejected_lines(errors: Sequence[Any]) -> None:
    for error in errors[:20]:
        console.print(f"line {error.line} skipped: {error.reason}")
    if len(errors) > 20:
        console.print(f"... and {len(errors) - 20} more lines skipped")


def _register(model_dir: Path, *, activate: bool, shadow: bool) -> None:
    upgrade()
    try:
        with session_scope() as session:
            row = register(session, model_dir)
            if activate or shadow:
                set_role(session, row.version, "shadow" if shadow else "active")
            console.print(f"{row.version} registered as {row.role}; card: {model_dir / 'card.md'}")
            version = row.version
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(version)


@main.group()
def model() -> None:
    """The model registry."""


@model.command("list")
def model_list() -> None:
    with session_scope() as session:
        for row in session.scalars(select(ModelVersion).order_by(ModelVersion.created_at)):
            metrics = row.card.get("metrics", {})
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
def model_register(path: Path, labels_path: Path, activate: bool, shadow: bool) -> None:
    """Register a model trained elsewhere (an XGBoost file): its features, objective and a
    smoke prediction are checked, and its thresholds and card come from labelled history."""
    from tasks.offline.labelled import LabelledFileError, read_labelled
    from tasks.offline.register_model import ModelFileError, register_file

    with console.status("checking and carding the model"):
        try:
            labelled = read_labelled(labels_path)
            _report_rejected_lines(labelled.errors)
            model_dir = register_file(path, labelled, get_settings().models_dir)
        except (LabelledFileError, ModelFileError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    _register(model_dir, activate=activate, shadow=shadow)


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
def model_activate(version: str, shadow: bool) -> None:
    """Make VERSION the active (or shadow) model; running workers pick it up within seconds."""
    try:
        with session_scope() as session:
            row = set_role(session, version, "shadow" if shadow else "active")
            click.echo(f"{row.version} is now {row.role}")
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
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
                    str(f["precision"]),
                    str(f["recall"]),
                )
        console.print(table)
    if "disagreements" in report:
        d = report["disagreements"]
        console.print(f"the versions decide {d['differ']} of {d['records']} records differently")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Queue depths, workers online per queue, model versions, breaker, dead letters, outbox,
    review backlog, deliveries and notices awaiting approval."""
    from rich.table import Table

    from workers.celery_app import app
    from workers.status import collect

    with session_scope() as session:
        found = collect(app, session)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    out = Console()
    table = Table(title=f"bulkguard at {found['at']}")
    for column in ("queue", "waiting", "oldest (s)", "workers"):
        table.add_column(column, justify="left" if column in ("queue", "workers") else "right")
    for queue, waiting in found["queues"].items():
        oldest = found["oldest_message_seconds"].get(queue)
        table.add_row(
            queue,
            str(waiting),
            "?" if oldest is None else f"{oldest:g}",
            ", ".join(found["workers"].get(queue, [])) or "NONE",
        )
    out.print(table)
    models = ", ".join(f"{role} {v}" for role, v in found["models"].items()) or "NONE ACTIVE"
    breaker = "OPEN: " + found["breaker"]["reason"] if found["breaker"]["open"] else "closed"
    reviews, outbox = found["reviews"], found["outbox"]
    out.print(f"models: {models}")
    out.print(f"breaker: {breaker}")
    out.print(
        f"reviews pending: {reviews['pending']} (oldest {reviews['oldest_seconds']} s); "
        f"notices awaiting approval: {found['notices_awaiting_approval']}"
    )
    out.print(
        f"outbox: {outbox['unpublished']} unpublished, {outbox['unfinished']} unfinished "
        f"(oldest {outbox['oldest_unfinished_seconds']} s); dead letters: "
        f"{found['dead_letters']['total']} ({found['dead_letters']['last_24h']} in 24 h); "
        f"deliveries: {found['deliveries']}"
    )


@main.command("log-ref")
@click.argument("account_id")
def log_ref(account_id: str) -> None:
    """The hash JSON logs show for ACCOUNT_ID (under BULKGUARD_LOG_HASH_KEY)."""
    from infra.json_logs import account_ref

    click.echo(account_ref(account_id, get_settings().log_hash_key.get_secret_value()))


@main.group()
def metrics() -> None:
    """The system's own metrics for Prometheus."""


@metrics.command("serve")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9808, show_default=True, type=click.IntRange(0, 65535))
def metrics_serve(bind: str, port: int) -> None:
    """Serve /metrics behind basic auth (BULKGUARD_METRICS_USER, BULKGUARD_METRICS_PASSWORD)."""
    from workers.celery_app import app
    from workers.metrics import make_metrics_server

    settings = get_settings()
    auth = _operator_auth(settings.metrics_user, settings.metrics_password, "METRICS")
    server = make_metrics_server(app, bind, port, auth)
    console.print(f"metrics on http://{bind}:{server.server_port}/metrics (basic auth)")
    # SIGTERM (`docker compose stop`) is a clean stop, as Ctrl-C is.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@click.option("--address", default=None, help="Address to listen on [BULKGUARD_FLOWER_ADDRESS].")
@click.option("--port", default=None, type=click.IntRange(0, 65535), help="[BULKGUARD_FLOWER_PORT]")
def flower(address: str | None, port: int | None) -> None:
    """Flower, every path behind basic auth (BULKGUARD_FLOWER_USER, BULKGUARD_FLOWER_PASSWORD)."""
    from workers.celery_app import app
    from workers.flower_service import build, serve

    settings = get_settings()
    auth = _operator_auth(settings.flower_user, settings.flower_password, "FLOWER")
    address = address or settings.flower_address
    service = build(
        app,
        auth,
        address=address,
        port=settings.flower_port if port is None else port,
        state_path=settings.flower_state_path,
        max_tasks=settings.flower_max_tasks,
    )
    serve(
        service,
        # Printed on stdout, flushed: the demo and the tests read the port from this line.
        lambda bound: print(f"flower on http://{address}:{bound}/ (basic auth)", flush=True),
    )


def _operator_auth(user: str | None, password: SecretStr | None, kind: str) -> BasicAuth:
    secret = password.get_secret_value() if password else ""
    if not user or not secret:
        raise click.ClickException(
            f"set BULKGUARD_{kind}_USER and BULKGUARD_{kind}_PASSWORD: it shows how enforcement "
            "runs and is never served without authentication"
        )
    try:
        return BasicAuth(user, secret)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def bench() -> None:
    """Benchmarks that report ratios against a baseline measured in the same run."""


@bench.command("scoring")
@click.option("--accounts", default=20_000, show_default=True, type=click.IntRange(1000))
@click.option("--latency-samples", default=200, show_default=True, type=click.IntRange(10))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def bench_scoring(accounts: int, latency_samples: int, as_json: bool) -> None:
    """Scoring end to end (Redis, two solo scoring workers, SQLite) vs raw XGBoost prediction."""
    from workers.bench import bench_scoring as run
    from workers.bench import results_table

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


@main.command()
def schema() -> None:
    """Print the JSON Schema of the scoring payload."""
    from tasks.scoring.signals import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


@main.command()
@click.argument("path", type=click.File("rb"))
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 10_000))
def enqueue(path: Any, batch: int) -> None:
    """Send a JSONL file of scoring records to the workers, by task name, in batches of one
    stage, as an upstream service would; the workers validate each record."""
    from tasks.messages import ScoreAccounts
    from tasks.scoring.signals import batches_by_stage
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


@main.group()
def evidence() -> None:
    """Off-platform evidence: analyse documents, evaluate the analysis."""


@evidence.command("add")
@click.argument("path", type=click.File("rb"))
@click.option("--by", "submitted_by", default=None, help="Who submits them (recorded).")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 1000))
def evidence_add(path: Any, submitted_by: str | None, batch: int) -> None:
    """Send a JSONL file of documents (source, kind, observed_at, url, publisher, title, text,
    content_type) to the evidence workers, by task name; they validate each document.

    A line that is not a UTF-8 JSON object is kept as a dead letter with its reason; the other
    lines are sent."""
    from infra import dead_letters
    from tasks.messages import IngestEvidence
    from workers.celery_app import app

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
@click.option("--json", "as_json", is_flag=True, help="Print the figures (and errors) as JSON.")
def evidence_evaluate(path: Any, as_json: bool) -> None:
    """Precision and recall of the analysis on a labelled JSONL set (default: the project's)."""
    from rich.table import Table

    from tasks.offline.evidence_evaluation import SET_FIELDS, bundled_set, evaluate

    documents = [orjson.loads(line) for line in path if line.strip()] if path else bundled_set()
    report = evaluate(documents).as_json()
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"evidence analysis on {report['documents']} labelled documents")
    for column in ("field", "precision", "recall", "TP", "FP", "FN"):
        table.add_column(column, justify="left" if column == "field" else "right")
    rows = [("is_claim", report["is_claim"])]
    rows += [(f"is_claim ({lang})", c) for lang, c in report["is_claim_by_language"].items()]
    rows += [(name, report[name]) for name in SET_FIELDS]
    for name, c in rows:
        table.add_row(
            name,
            *(str(c[k]) for k in ("precision", "recall", "true_positive", "false_positive")),
            str(c["false_negative"]),
        )
    for name in ("brand", "document_date"):
        if name in report:
            table.add_row(f"{name} (accuracy)", str(report[name]["accuracy"]), "", "", "", "")
    Console().print(table)


@main.command()
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
    seed: int,
    workdir: Path | None,
    json_path: Path | None,
) -> None:
    """Fault trials with real processes on loopback: per scenario, the accounts sent and
    scored, the effects lost and doubled, the worker deaths and the recovery time."""
    from workers.chaos import trials as chaos_trials
    from workers.chaos.run import cluster_on_loopback, print_table, run_trials, soak, write_json

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
    ) as (cluster, app):
        payload: dict[str, Any] = {"broker": broker, "database": database}
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
            print_table(out, results, broker, database)
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


main.add_command(appeal)
main.add_command(breaker)
main.add_command(companies)
main.add_command(dead_letters)
main.add_command(decisions)
main.add_command(deliveries)
main.add_command(labels)
main.add_command(legal)
main.add_command(policy)
main.add_command(report)
main.add_command(review)
main.add_command(health)

if __name__ == "__main__":
    sys.exit(main())
