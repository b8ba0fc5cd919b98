"""``bulkguard bench scoring``: scoring throughput and latency as ratios of raw XGBoost speed.

Everything is measured in one run, on one model and the same simulated accounts:

* the baseline: the best ``inplace_predict`` rows/s of the booster on all cores, on the feature
  matrix of the same accounts, measured before each end-to-end run and after the last (and
  per core, and the cost of exact and approximate contributions);
* end to end: accounts/s from the producer through Redis, two solo scoring workers, feature
  building, XGBoost and the SQLite writes, until every decision is stored, for batch sizes 1,
  100 and 1,000, on messaging-stage accounts whose registrations (and the bans of the abusive
  ones) the neighbourhood store already holds, as in production;
* the drain rate at batch 1,000: the queue filled (with three times as many accounts) while the
  workers do not consume, then timed from the moment they consume again until every decision
  is stored, as in production, where producers are upstream services on other hosts and their
  cost is not the fleet's;
* for each end-to-end run and the drain, the CPU time per account of each part of the system,
  all sharing the same cores: the producer (and the poll that waits for the decisions), the
  workers' own processes, their pool processes (none for solo workers) and the Redis server;
  their total bounds the rate;
* the latency from enqueue to stored decision of a single registration-time account;
* the peak RSS of the scoring worker processes, and the neighbourhood store's Redis memory per
  registration it holds;
* where a batch's time goes: each step of the scoring task timed on its own, in this process,
  on 1,000-account batches (the best of several), before the workers start.

It never reports a figure without the baseline measured beside it, so a faster or slower
machine changes the ratios far less than the absolute numbers.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import orjson
import redis
import xgboost as xgb
from celery.utils.nodenames import host_format
from rich.table import Table
from sqlalchemy import bindparam, func, select

from infra.db.migrate import upgrade
from infra.db.models import (
    Account,
    AccountDecision,
    DecisionBatch,
    Score,
    SignalSnapshot,
    utcnow,
)
from infra.db.scratch import scratch_database
from infra.db.session import get_engine, reset_engine, session_scope
from infra.local_redis import ensure_redis
from infra.redis_client import get_counters_redis, get_redis, reset_redis
from infra.registry import read_card, register, set_role
from infra.settings import get_settings
from tasks.accounts.signals import (
    AccountSignals,
    DetectionPoint,
    StagedAccount,
    parse_record,
)
from tasks.messages import ScoreAccounts
from tasks.neighbourhoods import redis_store
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.neighbourhoods.redis_store import RedisNeighbourStore
from tasks.offline.simulate_accounts import simulate
from tasks.offline.training import TrainingConfig, train
from tasks.scoring.decisions import decided_count, latest_batch_id
from tasks.scoring.features import FEATURES, feature_matrix
from tasks.scoring.score_batch import score_batch
from tasks.scoring.serving import current_scorers
from workers.celery_app import make_app
from workers.harness.processes import WorkerProcess, start_workers, stop_workers, wait_until_ready

# The steps of a scoring batch the bench times (``task_step_us_per_account``), in order.
STEPS = (
    "decode_json",
    "validate",
    "neighbourhood_features",
    "signal_features",
    "predict_and_decide",
    "store_and_commit",
)
BENCH_REDIS_URL = "redis://127.0.0.1:6379/14"
# The drain runs three times as many accounts as the other runs: its fixed costs (telling the
# workers to consume, the poll's interval, the last batch finishing alone) then weigh a third as
# much in a figure meant to be the fleet's steady rate.
DRAIN_MULTIPLE = 3


def simulated(n: int, seed: int, stage: DetectionPoint) -> list[dict[str, Any]]:
    """``n`` simulated accounts observed at ``stage``."""
    out: list[dict[str, Any]] = []
    for record in simulate(n * 4, seed, stages="all"):
        if record["stage"] == stage.value:
            out.append(record)
            if len(out) == n:
                break
    return out


def register_history(seeds: Sequence[tuple[int, int]]) -> int:
    """Give the stores the history they have in production before accounts reach the messaging
    stage: the accounts of the messaging records ``simulated(count, seed, MESSAGING)`` (the
    ones the bench measures) registered and were scored then, by the scoring task's own body,
    and the abusive ones among them were banned. Their account rows and registration scores are
    in the database, and lookups find counters and hot neighbourhoods, as in production, rather
    than empty stores. The number of registrations recorded."""
    store = RedisNeighbourStore(get_counters_redis())
    registered = 0
    with session_scope() as session:
        scorers = current_scorers(session)
    for seed, n in seeds:
        raw = registrations_of(simulated(n, seed, DetectionPoint.MESSAGING))
        for start in range(0, len(raw), 1000):
            chunk = raw[start : start + 1000]
            request = ScoreAccounts.model_validate({"stage": "registration", "accounts": chunk})
            with session_scope() as session:
                outcome = score_batch(
                    session,
                    request,
                    serving=lambda: scorers,
                    neighbours=store,
                    task_id=None,
                    now=utcnow(),
                )
            # The abusers among them, read again for the bans alone: score_batch keeps its own.
            store.record_bans(
                [parse_record(r, AccountSignals, now=None) for r in chunk if r["truth"]["label"]]
            )
            registered += int(outcome.summary["scored"])
    return registered


def registrations_of(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record each account's registration sent: observed as it registered, with only what
    is known then (many simulated accounts registered before the simulated window, so the
    simulator has no registration record of its own for them)."""
    known = ("account_id", "phone", "registration", "business", "truth")
    return [
        {
            **{key: record[key] for key in known if key in record},
            "observed_at": record["registration"]["registered_at"],
        }
        for record in records
    ]


def redelivery_bytes(client: redis.Redis) -> int:
    """Bytes Redis spends on the counters' sets of registrations already counted."""
    keys = list(client.scan_iter(f"{redis_store.PREFIX}:*}}:seen", count=10_000))
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key, samples=0)
    return sum(int(size or 0) for size in pipe.execute())


def step_costs(batches: Sequence[list[dict[str, Any]]], stage: DetectionPoint) -> dict[str, float]:
    """Microseconds per account of each step of ``scoring.score_accounts``, best of the batches.

    The steps run as the task runs them, against the same Redis and database, but in this
    process and one at a time, so the figures leave out the broker, Celery and the contention
    between worker processes, which the end-to-end figures include.
    """
    neighbours = RedisNeighbourStore(get_counters_redis())
    runs = [_time_steps(accounts, stage, neighbours) for accounts in batches]
    return {step: round(min(run[step] for run in runs), 1) for step in runs[0]}


class _Laps:
    """Microseconds per account of each step of a batch, as the body reports its steps."""

    def __init__(self, accounts: int) -> None:
        self.accounts = accounts
        self.costs: dict[str, float] = {}
        self._last = time.perf_counter()

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.costs[step] = self.costs.get(step, 0.0) + (now - self._last) / self.accounts * 1e6
        self._last = now


def _time_steps(
    accounts: list[dict[str, Any]], point: DetectionPoint, neighbours: RedisNeighbourStore
) -> dict[str, float]:
    """One batch through the scoring body, as the task runs it, each step timed."""
    body = orjson.dumps({"stage": point.value, "accounts": accounts})
    with session_scope() as session:
        # Which models serve is known before the steps are timed, as it is in a warm worker.
        scorers = current_scorers(session)
        now = utcnow()
        lap = _Laps(len(accounts))
        request = ScoreAccounts.model_validate(orjson.loads(body))
        lap("decode_json")
        score_batch(
            session,
            request,
            serving=lambda: scorers,
            neighbours=neighbours,
            task_id=None,
            now=now,
            lap=lap,
        )
        session.commit()
        lap("commit")
    costs = lap.costs
    costs["store_and_commit"] = costs.pop("store") + costs.pop("commit")
    return costs


def _best_rate(fn: Any, rows: int, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return rows / best


class RawPredict:
    """The baseline: the booster alone, on the feature rows of the same simulated accounts."""

    def __init__(self, model_path: Path, records: Sequence[dict[str, Any]]) -> None:
        staged = [parse_record(r, StagedAccount, now=None) for r in records]
        self.features = feature_matrix(staged, DetectionPoint.MESSAGING, MemoryNeighbourStore())
        self.booster = xgb.Booster()
        self.booster.load_model(str(model_path))

    def rows_per_s(self, threads: int, repeats: int = 5) -> float:
        self.booster.set_param({"nthread": threads})
        return _best_rate(
            lambda: self.booster.inplace_predict(self.features, validate_features=False),
            len(self.features),
            repeats,
        )


def raw_baseline(raw: RawPredict) -> dict[str, float]:
    cores = os.cpu_count() or 1
    out = {
        "raw_predict_rows_per_s_all_cores": raw.rows_per_s(cores),
        "raw_predict_rows_per_s_one_core": raw.rows_per_s(1),
    }
    raw.booster.set_param({"nthread": 1})
    sample = xgb.DMatrix(raw.features[:300], feature_names=list(FEATURES))
    out["exact_contribs_rows_per_s_one_core"] = _best_rate(
        lambda: raw.booster.predict(sample, pred_contribs=True), 300, repeats=2
    )
    out["approx_contribs_rows_per_s_one_core"] = _best_rate(
        lambda: raw.booster.predict(sample, pred_contribs=True, approx_contribs=True), 300
    )
    return out


@contextmanager
def bench_environment(
    root: Path, redis_url: str, database_url: str | None = None
) -> Iterator[dict[str, str]]:
    """This process's settings pointed at a bench's own data directory, Redis database (the
    broker too) and database (SQLite under ``root`` unless given); restored afterwards. The
    environment processes started for the bench need."""
    # The bench measures the Redis broker (its CPU is in the figures), on its own database,
    # whatever broker the environment names.
    env = {
        "BULKGUARD_DATA_DIR": str(root),
        "REDIS_URL": redis_url,
        "BROKER_URL": redis_url,
        "DATABASE_URL": database_url or "",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    if not database_url:
        os.environ.pop("DATABASE_URL")
    get_settings.cache_clear()
    reset_engine()
    reset_redis()
    try:
        yield {k: v for k, v in env.items() if v}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
        reset_engine()
        reset_redis()


@contextmanager
def scratch_bench(
    redis_url: str, postgres_url: str | None = None
) -> Iterator[tuple[Path, dict[str, str]]]:
    """A bench's own temporary data directory, an emptied Redis database (started if none
    answers) and a migrated database: a scratch PostgreSQL database on the server
    ``postgres_url`` names (dropped afterwards), else SQLite. Yields the directory and the
    environment the bench's processes need."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bulkguard-bench-")))
        database_url = None
        if postgres_url is not None:
            database_url = stack.enter_context(scratch_database(postgres_url, "bulkguard_bench"))
        stack.enter_context(ensure_redis(redis_url))
        env = stack.enter_context(bench_environment(tmp, redis_url, database_url))
        redis.Redis.from_url(redis_url).flushdb()
        upgrade()
        yield tmp, env


def _last_batch_id() -> int:
    with session_scope() as session:
        return latest_batch_id(session)


def _wait_for_decisions(after: int, count: int, poll: float) -> None:
    """Wait until ``count`` decisions are stored in batches after id ``after``.

    The poll runs on the cores the workers are measured on, so it must cost them next to
    nothing: it sums the decision counts of the few batch rows stored since ``after``.
    """
    while True:
        with session_scope() as session:
            if decided_count(session, after_id=after) >= count:
                return
        time.sleep(poll)


def _end_to_end(
    app: Any, records: list[dict[str, Any]], batch: int, stage: DetectionPoint
) -> float:
    """Accounts/s of ``records`` sent in batches of ``batch`` until all are stored. They are
    sent as an upstream service sends them, by name with plain JSON: the producer's cost is
    that of any Celery-protocol client, not of building bulkguard's payload models."""
    after = _last_batch_id()
    started = time.perf_counter()
    for i in range(0, len(records), batch):
        app.send_task(
            ScoreAccounts.TASK,
            kwargs={"stage": stage.value, "accounts": records[i : i + batch]},
        )
    _wait_for_decisions(after, len(records), poll=0.02)
    return len(records) / (time.perf_counter() - started)


def _drain(
    app: Any, nodes: list[str], records: list[dict[str, Any]], batch: int, stage: DetectionPoint
) -> float:
    """Accounts/s at which running workers drain a queue filled while they did not consume:
    as in production, where the producers are upstream services on other hosts, the producer's
    cost is left out. Timed from the moment the workers are told to consume again until every
    decision is stored."""
    app.control.cancel_consumer("scoring", destination=nodes, reply=True, timeout=10)
    after = _last_batch_id()
    for i in range(0, len(records), batch):
        app.send_task(
            ScoreAccounts.TASK,
            kwargs={"stage": stage.value, "accounts": records[i : i + batch]},
        )
    started = time.perf_counter()
    app.control.add_consumer("scoring", destination=nodes, reply=True, timeout=10)
    # Polled every 20 ms: one index probe on a separate connection, a small share of a core.
    _wait_for_decisions(after, len(records), poll=0.02)
    return len(records) / (time.perf_counter() - started)


def _drain_run(app: Any, workers: Sequence[WorkerProcess], accounts: int) -> dict[str, Any]:
    """One drain of ``accounts`` messaging records in batches of 1,000, with its CPU split."""
    records = simulated(accounts, 913, DetectionPoint.MESSAGING)
    nodes = [host_format(f"{w.name}@%h") for w in workers]
    pids = [w.process.pid for w in workers]
    cpu_before = cpu_used(pids, get_redis())
    rate = _drain(app, nodes, records, 1000, DetectionPoint.MESSAGING)
    return {
        "accounts": accounts,
        "accounts_per_s": round(rate, 1),
        "cpu_us_per_account": cpu_per_account(cpu_before, cpu_used(pids, get_redis()), accounts),
    }


def _latency_figures(app: Any, samples: int) -> dict[str, Any]:
    lat = _latencies(app, simulated(samples, 990, DetectionPoint.REGISTRATION))
    quantiles = statistics.quantiles(lat, n=100)
    return {
        "samples": len(lat),
        "p50": round(statistics.median(lat), 2),
        "p99": round(quantiles[98], 2),
    }


def _latencies(app: Any, records: list[dict[str, Any]]) -> list[float]:
    """Milliseconds from enqueueing each record alone to its stored decision.

    The poll shares the cores with the worker it waits for, every half millisecond: it is an
    indexed point lookup on one open connection, since opening a session per poll took a large
    share of a core from the measured path.
    """
    out = []
    lookup = (
        select(AccountDecision.snapshot_id)
        .where(AccountDecision.account_id == bindparam("account"))
        .limit(1)
    )
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as poll:
        for record in records:
            started = time.perf_counter()
            app.send_task(
                ScoreAccounts.TASK,
                kwargs={"stage": DetectionPoint.REGISTRATION.value, "accounts": [record]},
            )
            while poll.execute(lookup, {"account": record["account_id"]}).first() is None:
                time.sleep(0.0005)
            out.append((time.perf_counter() - started) * 1000)
    return out


def _family(parent_pid: int) -> list[int]:
    """A worker's main process and its pool processes."""
    children = subprocess.run(
        ["pgrep", "-P", str(parent_pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [parent_pid, *(int(p) for p in children)]


def _peak_rss_mib(worker_pids: Sequence[int]) -> float:
    """The largest peak resident memory of any process of these workers."""
    peak = 0
    for pid in (p for worker in worker_pids for p in _family(worker)):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            continue
    return peak / 1024


def _cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """CPU seconds of a process (utime and stime, fields 14 and 15 of /proc/PID/stat, after the
    parenthesised name); with ``reaped``, those of its children that have exited (16 and 17)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # a pool process replaced since it was listed
        return 0.0
    first = 13 if reaped else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def cpu_used(worker_pids: Sequence[int], client: redis.Redis) -> dict[str, float]:
    """CPU seconds used so far by each part of the measured system, all on the same cores.

    The workers' own processes (a solo worker's does all of its work; a prefork worker's main
    process reads, decodes and hands messages on) and their pool processes (prefork's children,
    none for solo workers). A pool process that exits (recycled) moves its time into its
    parent's reaped-children time, so it is counted either way. Redis's figure is the whole
    server's: the bench's own database on a server nobody else is using keeps it the bench's.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    families = [_family(pid) for pid in worker_pids]
    server = client.info("cpu")
    return {
        "producer_and_poll": own.ru_utime + own.ru_stime,
        "worker_processes": sum(_cpu_seconds(main) for main, *_ in families),
        "pool_processes": sum(
            sum(_cpu_seconds(pid) for pid in pool) + _cpu_seconds(main, reaped=True)
            for main, *pool in families
        ),
        "redis_server": float(server["used_cpu_user"]) + float(server["used_cpu_sys"]),
    }


def cpu_per_account(
    before: dict[str, float], after: dict[str, float], accounts: int
) -> dict[str, float]:
    """Microseconds of CPU per account of each part, and their total: with two cores, the
    end-to-end rate cannot exceed 2 / total."""
    out = {part: round((after[part] - before[part]) / accounts * 1e6, 1) for part in before}
    out["total"] = round(sum(out.values()), 1)
    return out


def per_core(drain: dict[str, Any], records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """What one core of each kind carries, from the drain's CPU split, and what each account
    costs the broker and the database: the inputs of docs/capacity.md."""
    cpu = drain["cpu_us_per_account"]
    # As an upstream service sends them: the simulator's truth block is not part of a record.
    sent = [{k: v for k, v in r.items() if k != "truth"} for r in records]
    body = orjson.dumps({"stage": DetectionPoint.MESSAGING.value, "accounts": sent})
    with session_scope() as session:
        decisions = decided_count(session) or 1
        rows = sum(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Account, SignalSnapshot, DecisionBatch, AccountDecision, Score)
        )
    return {
        "worker_accounts_per_core_s": round(
            1e6 / (cpu["worker_processes"] + cpu["pool_processes"])
        ),
        "redis_accounts_per_core_s": round(1e6 / cpu["redis_server"]),
        "broker_body_bytes_per_account": round(len(body) / len(records)),
        "database_rows_per_account": round(rows / decisions, 3),
    }


def bench_scoring(
    *,
    model_cache: Path,
    accounts: int = 20_000,
    latency_samples: int = 200,
    redis_url: str = BENCH_REDIS_URL,
) -> dict[str, Any]:
    model_dir = standard_model(model_cache)
    with (
        tempfile.TemporaryDirectory(prefix="bulkguard-bench-") as tmp,
        ensure_redis(redis_url),
        bench_environment(Path(tmp), redis_url) as env,
    ):
        redis.Redis.from_url(redis_url).flushdb()
        upgrade()
        target = activate_copy(model_dir, Path(tmp) / "models")

        result: dict[str, Any] = {
            "model_version": read_card(model_dir)["version"],
            "cores": os.cpu_count(),
        }
        raw = RawPredict(
            target / "model.ubj",
            simulated(min(accounts, 20_000), 900, DetectionPoint.MESSAGING),
        )
        result.update(raw_baseline(raw))
        # The machine's speed drifts during a run: the baseline is measured again before each
        # end-to-end run and after the last, and the best of all is the one every ratio uses.
        cores = os.cpu_count() or 1
        baselines = [result["raw_predict_rows_per_s_all_cores"]]
        # The store's footprint, from the server's own accounting: like its CPU figure, the
        # whole server's, which the bench's own database on an otherwise idle server keeps its.
        memory_before = int(get_redis().info("memory")["used_memory"])
        registered = register_history(
            [(seed, 1000) for seed in range(920, 926)]
            + [(910, 2000), (911, accounts), (912, accounts), (913, DRAIN_MULTIPLE * accounts)]
        )
        result["neighbourhood_bytes_per_registration"] = round(
            (int(get_redis().info("memory")["used_memory"]) - memory_before) / registered
        )
        # Of which the sets that keep a redelivered registration from counting twice: they are
        # kept two days, the rest a month, so in a steady state they weigh far less than here.
        result["neighbourhood_redelivery_bytes_per_registration"] = round(
            redelivery_bytes(get_redis()) / registered
        )
        result["task_step_us_per_account"] = step_costs(
            [simulated(1000, seed, DetectionPoint.MESSAGING) for seed in range(920, 926)],
            DetectionPoint.MESSAGING,
        )

        # Its own app: this process may have made the workers' app earlier, for another broker.
        app = make_app(get_settings(), current=False)
        tag = uuid.uuid4().hex[:8]
        workers = start_workers({"scoring": 2}, env, Path(tmp) / "logs", tag)
        try:
            wait_until_ready(app, workers)
            _end_to_end(
                app,
                simulated(200, 901, DetectionPoint.MESSAGING),
                100,
                DetectionPoint.MESSAGING,
            )  # warm
            result["end_to_end"] = {}
            pids = [w.process.pid for w in workers]
            rates = {}
            for seed, (batch, n) in enumerate(
                ((1, min(accounts, 2000)), (100, accounts), (1000, accounts)), start=910
            ):
                records = simulated(n, seed, DetectionPoint.MESSAGING)
                baselines.append(raw.rows_per_s(cores))
                cpu_before = cpu_used(pids, get_redis())
                rates[batch] = _end_to_end(app, records, batch, DetectionPoint.MESSAGING)
                cpu = cpu_per_account(cpu_before, cpu_used(pids, get_redis()), n)
                result["end_to_end"][str(batch)] = {
                    "accounts": n,
                    "accounts_per_s": round(rates[batch], 1),
                    "cpu_us_per_account": cpu,
                }
            # The drain rate at batch 1,000: the queue filled first, then drained.
            baselines.append(raw.rows_per_s(cores))
            result["drain"] = {"1000": _drain_run(app, workers, DRAIN_MULTIPLE * accounts)}
            result["per_core"] = per_core(
                result["drain"]["1000"], simulated(1000, 913, DetectionPoint.MESSAGING)
            )
            baselines.append(raw.rows_per_s(cores))
            baseline = max(baselines)
            result["raw_predict_rows_per_s_all_cores"] = baseline
            result["raw_predict_rows_per_s_all_cores_measured"] = [round(b) for b in baselines]
            for batch, rate in rates.items():
                result["end_to_end"][str(batch)]["ratio_to_raw_all_cores"] = round(
                    rate / baseline, 4
                )
            drain = result["drain"]["1000"]
            drain["ratio_to_raw_all_cores"] = round(drain["accounts_per_s"] / baseline, 4)
            result["single_account_latency_ms"] = _latency_figures(app, latency_samples)
            result["worker_peak_rss_mib"] = round(_peak_rss_mib(pids), 1)
        finally:
            stop_workers(workers)
            app.close()
    for key, value in list(result.items()):
        if isinstance(value, float):
            result[key] = round(value, 1)
    return result


def activate_copy(model_dir: Path, models: Path) -> Path:
    """Copy the model into the bench's registry and make it the active version."""
    models.mkdir()
    target = models / model_dir.name
    subprocess.run(["cp", "-r", str(model_dir), str(target)], check=True)
    with session_scope() as session:
        set_role(session, register(session, target).version, "active")
    return target


def standard_model(cache: Path) -> Path:
    """The benchmark's model: `bulkguard train`'s defaults (300 trees, depth 6), trained once."""
    found = sorted(cache.glob("*/model.ubj"))
    if found:
        return found[-1].parent
    cache.mkdir(parents=True, exist_ok=True)
    return train(TrainingConfig(), cache)


def results_table(result: dict[str, Any]) -> Table:
    """``bench_scoring``'s result for a person: every figure beside its ratio to the baseline."""
    table = Table(title=f"scoring benchmark ({result['cores']} cores, {result['model_version']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("x raw predict (all cores)", justify="right")
    raw = result["raw_predict_rows_per_s_all_cores"]
    for key in (
        "raw_predict_rows_per_s_all_cores",
        "raw_predict_rows_per_s_one_core",
        "exact_contribs_rows_per_s_one_core",
        "approx_contribs_rows_per_s_one_core",
    ):
        table.add_row(key, f"{result[key]:,.0f}", f"{result[key] / raw:.4f}")
    for batch, e2e in result["end_to_end"].items():
        table.add_row(
            f"end-to-end accounts/s, batch {batch}",
            f"{e2e['accounts_per_s']:,.0f}",
            f"{e2e['ratio_to_raw_all_cores']:.4f}",
        )
    drain = result["drain"]["1000"]
    table.add_row(
        "drain accounts/s, batch 1000 (queue filled first)",
        f"{drain['accounts_per_s']:,.0f}",
        f"{drain['ratio_to_raw_all_cores']:.4f}",
    )
    lat = result["single_account_latency_ms"]
    table.add_row("single account enqueue→stored p50 (ms)", f"{lat['p50']}", "")
    table.add_row("single account enqueue→stored p99 (ms)", f"{lat['p99']}", "")
    table.add_row("scoring worker peak RSS (MiB)", f"{result['worker_peak_rss_mib']}", "")
    table.add_row(
        "neighbourhood store, Redis bytes per registration",
        f"{result['neighbourhood_bytes_per_registration']:,}",
        "",
    )
    table.add_row(
        "  of which redelivery sets (kept two days, not a month)",
        f"{result['neighbourhood_redelivery_bytes_per_registration']:,}",
        "",
    )
    for part, cost in result["end_to_end"]["1000"]["cpu_us_per_account"].items():
        table.add_row(f"CPU {part} (us/account, batch 1000)", f"{cost}", "")
    for part, cost in drain["cpu_us_per_account"].items():
        table.add_row(f"CPU {part} (us/account, drain)", f"{cost}", "")
    for name, value in result["per_core"].items():
        table.add_row(f"capacity input: {name}", f"{value:,}", "")
    for step, cost in result["task_step_us_per_account"].items():
        table.add_row(f"task step {step} (us/account, batch 1000)", f"{cost}", "")
    return table
