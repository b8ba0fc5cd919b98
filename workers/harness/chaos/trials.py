"""Fault scenarios and the trials that run them.

Each trial sends a fresh population of accounts (ids prefixed by the trial), injects its fault
while that work is in flight, waits until the pipeline settles or the patience runs out, and
tallies what was lost and doubled (``workers.harness.chaos.ledger``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import signal
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from celery import Celery
from sqlalchemy import func, select

from infra.db.models import DeadLetter, utcnow
from infra.db.session import session_scope
from tasks.accounts.signals import DetectionPoint, batches_by_stage, validate_records
from tasks.messages import ScoreAccounts
from tasks.offline.simulate_accounts import simulate
from tasks.scoring.snapshot import encode_records
from workers.harness.chaos.cluster import CONCURRENCY, Cluster
from workers.harness.chaos.ledger import Tally, tally
from workers.harness.chaos.plain_client import publish_raw, task_headers
from workers.harness.chaos.poison import POISON, kept_apart, raw_messages
from workers.harness.chaos.poison import publish_raw as publish_raw_messages
from workers.harness.chaos.services import refusing_connections
from workers.harness.report import broker_backlog

BATCH = 250
TASK = ScoreAccounts.TASK


@dataclass
class Sent:
    """What a trial's producer sent: ids expected to be scored, and the messages themselves
    (task id, kwargs) for scenarios that send them again."""

    accounts: int
    expected: list[str]
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Moment:
    """Where a fault strikes: the running cluster, the app to publish with, the trial's random
    source, what its producer sent and when the trial began."""

    cluster: Cluster
    app: Celery
    rng: random.Random
    sent: Sent
    since: dt.datetime  # the trial's start


Producer = Callable[[Celery, int, int, random.Random], Sent]
Fault = Callable[[Moment], str]


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    fault: Fault
    producer: Producer
    needs_postgres: bool = False


@dataclass
class Result:
    scenario: str
    trials: int = 0
    accounts: int = 0
    scored: int = 0
    lost: int = 0
    duplicated: int = 0
    resent: int = 0
    deaths: int = 0
    dead_letters: int = 0
    recovery: list[float] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)  # what struck, trial by trial
    notes: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "trials": self.trials,
            "accounts_sent": self.accounts,
            "scored": self.scored,
            "effects_lost": self.lost,
            "effects_duplicated": self.duplicated,
            "deliveries_resent": self.resent,
            "worker_deaths": self.deaths,
            "dead_letters": self.dead_letters,
            "recovery_s_median": round(statistics.median(self.recovery), 1)
            if self.recovery
            else None,
            "recovery_s_max": round(max(self.recovery), 1) if self.recovery else None,
            "faults": self.faults,
            "notes": self.notes,
        }


# -- producers


def population(trial: int, accounts: int, seed: int) -> list[dict[str, Any]]:
    """Simulated records with ids and phone numbers of this trial alone."""
    records = list(simulate(accounts, seed=seed))
    for n, record in enumerate(records):
        record["account_id"] = f"t{trial}-{record['account_id']}"
        record["phone"] = f"+4219{(trial * 100_000 + n) % 10**8:08d}"
    return records


def send_accounts(app: Celery, trial: int, accounts: int, rng: random.Random) -> Sent:
    records = population(trial, accounts, rng.randrange(10**6))
    sent = Sent(accounts=len(records), expected=[r["account_id"] for r in records])
    for stage, batch in batches_by_stage(records, BATCH):
        task_id = str(uuid.uuid4())
        kwargs = {"stage": stage, "accounts": batch}
        app.send_task(ScoreAccounts.TASK, kwargs=kwargs, task_id=task_id)
        sent.messages.append((task_id, kwargs))
    return sent


def send_hostile(app: Celery, trial: int, accounts: int, rng: random.Random) -> Sent:
    """Good records mixed with values a plain Celery client (stdlib JSON) can send, as that
    client encodes them, and raw messages that are no task at all."""
    records = population(trial, accounts, rng.randrange(10**6))
    for record in records[::7]:
        _spoil(record, rng)
    return _publish_plain(app, records, junk=True)


def send_fuzz(app: Celery, trial: int, accounts: int, rng: random.Random) -> Sent:
    """Records with random mutations: every field may be dropped, retyped or given an extreme."""
    records = population(trial, accounts, rng.randrange(10**6))
    for record in records:
        if rng.random() < 0.5:
            _mutate(record, rng)
    return _publish_plain(app, records, junk=False)


def _publish_plain(app: Celery, records: list[dict[str, Any]], *, junk: bool) -> Sent:
    sent = Sent(accounts=len(records), expected=[])
    for stage, batch in batches_by_stage(records, BATCH):
        body = json.dumps([[], {"stage": stage, "accounts": batch}, {}]).encode()
        publish_raw(app, body, task_headers(ScoreAccounts.TASK))
        # What a worker will accept of it, decided as the task does.
        decoded = json.loads(body)[1]["accounts"]
        _, positions, _ = validate_records(DetectionPoint(stage), decoded, now=utcnow())
        encoded, _ = encode_records(decoded, positions)
        sent.expected += [decoded[p]["account_id"] for p in encoded.positions]
    if junk:
        publish_raw(app, b'[[], {"stage": "messaging", "accounts": [', task_headers(TASK))
        publish_raw(app, b"[[], {}, {}]", task_headers("scoring.no_such_task"))
        publish_raw(
            app,
            b"\x80\x04K\x01.",
            task_headers(TASK),
            content_type="application/x-python-serialize",
        )
        publish_raw(app, b"{}", None)
    return sent


_SPOILS: list[Callable[[dict[str, Any], random.Random], None]] = [
    lambda r, _: r["registration"].update(ip_country=float("nan")),
    lambda r, _: r.update(observed_at=float("inf")),
    lambda r, _: r.update(account_id=r["account_id"] + "\ud800"),
    lambda r, _: r.update(account_id=r["account_id"] + "\x00"),
    lambda r, _: r.update(business={"name": "Reach\x00Media"}),
    lambda r, _: r.update(upstream={"note": "\udc00"}),
    lambda r, rng: r.update(upstream=_nested(rng.randrange(260, 400))),
    lambda r, _: r["registration"].update(network_id=1e999),
]


def _spoil(record: dict[str, Any], rng: random.Random) -> None:
    rng.choice(_SPOILS)(record, rng)


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


_EXTREMES: list[Any] = [
    None,
    -1,
    0,
    2**63,
    1e308,
    -0.0,
    float("nan"),
    float("inf"),
    "",
    "x" * 5000,
    "\x00",
    "\ud83d",
    "+421",
    [],
    {},
    True,
    "2019-12-07T00:00:00",
]


def _mutate(record: dict[str, Any], rng: random.Random) -> None:
    """Change one leaf (or drop it) anywhere in the record."""
    target: dict[str, Any] = record
    while True:
        # The stage decides the batch a record travels in, as upstream sends them; the id is
        # how the ledger finds the record again (bad ids are the hostile scenario's).
        key = rng.choice([k for k in target if k not in ("stage", "account_id")])
        if isinstance(target[key], dict) and target[key] and rng.random() < 0.7:
            target = target[key]
            continue
        break
    if rng.random() < 0.2:
        del target[key]
    else:
        target[key] = rng.choice(_EXTREMES)


# -- faults


def kill_pool(at: Moment) -> str:
    queue = at.rng.choice(["scoring", "scoring", "enforcement", "maintenance"])
    killed = at.cluster.kill_pool_process(queue, at.rng)
    return f"SIGKILL a {queue} pool process" if killed else f"no {queue} pool process"


def kill_main(at: Moment) -> str:
    queue = at.rng.choice(["scoring", "enforcement", "maintenance"])
    at.cluster.kill_worker(at.app, queue, signal.SIGKILL)
    return f"SIGKILL the {queue} worker (main process and pool)"


def sigterm(at: Moment) -> str:
    queue = at.rng.choice(["scoring", "enforcement"])
    at.cluster.kill_worker(at.app, queue, signal.SIGTERM)
    return f"SIGTERM the {queue} worker mid-batch"


def redis_crash(at: Moment) -> str:
    at.cluster.redis.restart()
    return "Redis killed and restarted (append-only file, fsync always)"


def redis_forgets(at: Moment) -> str:
    """Once the batches are scored, while their follow-ups (enforcement, delivery) are queued
    or running: those must come back from the outbox. Batches still queued would be lost with
    the broker's memory, as any message a client handed to a broker that forgets."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with session_scope() as session:
            done = tally(
                session,
                expected=at.sent.expected,
                model_version=at.cluster.model_version,
                since=at.since,
                sink=at.cluster.sink,
            )
        if done.unscored == 0:
            break
        time.sleep(0.05)
    at.cluster.redis.restart(empty=True)
    return (
        "Redis killed and restarted empty (no persistence) after scoring, with "
        f"{done.unfinished_follow_ups} follow-ups unfinished and {done.undelivered_actions} "
        "actions in force undelivered"
    )


def database_refuses(at: Moment) -> str:
    if at.cluster.postgres_admin_url is None:
        raise RuntimeError("this scenario needs PostgreSQL (--database postgresql)")
    seconds = at.rng.uniform(5, 20)
    with refusing_connections(at.cluster.postgres_admin_url, at.cluster.database_url):
        time.sleep(seconds)
    return f"PostgreSQL refused connections for {seconds:.0f}s"


def redeliver(at: Moment) -> str:
    """The same messages again, with the same task ids, after their effects committed."""
    wait_settled(at.cluster, at.app, at.sent, since=utcnow(), patience=120)
    for task_id, kwargs in at.sent.messages:
        at.app.send_task(ScoreAccounts.TASK, kwargs=kwargs, task_id=task_id)
    return "every batch delivered a second time after commit"


def no_fault(_at: Moment) -> str:
    return "no fault: the bodies are the attack"


def poison(at: Moment) -> str:
    """Every raw item of the poison table pushed onto every queue while the work is in flight
    (on RabbitMQ, every crafted message published raw), as a buggy producer with the broker's
    credentials could: each must become one dead letter,
    with no worker stopping (the trial's dead letters and worker deaths say whether it did)."""
    queues = list(CONCURRENCY)
    # Dead letters of equal bytes are kept once; leading blanks, which change no decoder's
    # verdict, make each item pushed its own.
    blanks = at.rng.randrange(10**6)
    if at.cluster.broker_url is not None:  # RabbitMQ: the crafted messages, published raw
        table = raw_messages()
        for queue in queues:
            blanks += 1
            publish_raw_messages(at.cluster.broker_url, kept_apart(table, blanks), queue)
        _await_dead_letters(at.since, len(table) * len(queues))
        return f"{len(table) * len(queues)} raw messages published onto {len(queues)} queues"
    with redis.Redis.from_url(at.cluster.redis.url) as client:
        for queue in queues:
            for raw, _ in POISON:
                blanks += 1
                client.lpush(queue, b" " * (blanks % 97) + b"\n" * (blanks // 97 % 97) + raw)
    _await_dead_letters(at.since, len(POISON) * len(queues))
    return f"{len(POISON) * len(queues)} poison items pushed onto {len(queues)} queues under load"


def _await_dead_letters(since: dt.datetime, expected: int, patience: float = 120) -> None:
    """Wait until ``expected`` dead letters are recorded since ``since``, or ``patience`` runs
    out (the trial's count then says how many were not). An idle broker is not enough: a message
    a worker has taken but not yet recorded is counted by no queue (RabbitMQ's depth is its ready
    messages), and on a loaded machine the trial would settle before the last letter is kept."""
    deadline = time.monotonic() + patience
    while _dead_letters_since(since) < expected and time.monotonic() < deadline:
        time.sleep(0.5)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("kill-pool", "SIGKILL of pool processes", kill_pool, send_accounts),
        Scenario("kill-main", "SIGKILL of a worker's main process", kill_main, send_accounts),
        Scenario("sigterm", "SIGTERM (warm shutdown) mid-batch", sigterm, send_accounts),
        Scenario("redis-crash", "Redis restarted from its AOF", redis_crash, send_accounts),
        Scenario("redis-forgets", "Redis restarted empty", redis_forgets, send_accounts),
        Scenario(
            "db-refuses",
            "PostgreSQL refusing connections",
            database_refuses,
            send_accounts,
            needs_postgres=True,
        ),
        Scenario("redeliver", "redelivery after commit", redeliver, send_accounts),
        Scenario("hostile", "hostile bodies from a plain client", no_fault, send_hostile),
        Scenario("fuzz", "randomly mutated records", no_fault, send_fuzz),
        Scenario(
            "poison",
            "raw items no worker can read, under load",
            poison,
            send_accounts,
        ),
    )
}


# -- running


def run_scenario(
    cluster: Cluster,
    app: Celery,
    scenario: Scenario,
    *,
    trials: int,
    accounts: int,
    rng: random.Random,
    patience: float,
    first_trial: int,
    on_trial: Callable[[Result], None] = lambda _result: None,
) -> Result:
    result = Result(scenario.name)
    for n in range(trials):
        trial = first_trial + n
        since = utcnow()
        deaths, exits = cluster.deaths, len(cluster.exits)
        sent = scenario.producer(app, trial, accounts, rng)
        time.sleep(rng.uniform(0.05, 0.8))  # let the work get under way
        fault_at = time.monotonic()
        note = scenario.fault(Moment(cluster, app, rng, sent, since))
        final = wait_settled(cluster, app, sent, since=since, patience=patience)
        recovered = time.monotonic() - fault_at
        result.faults.append(f"trial {trial}: {note}")
        # A worker that died on its own was restarted meanwhile; it is a finding all the same.
        for queue in cluster.exits[exits:]:
            result.notes.append(f"trial {trial} ({note}): the {queue} worker exited on its own")
        result.trials += 1
        result.accounts += sent.accounts
        result.scored += final.scored
        result.lost += final.lost
        result.duplicated += final.duplicated
        result.resent += final.resent
        result.deaths += cluster.deaths - deaths
        result.dead_letters += _dead_letters_since(since)
        if final.settled:
            result.recovery.append(recovered)
        else:
            result.notes.append(
                f"trial {trial} ({note}): not settled after {patience:.0f}s: {final}"
            )
        on_trial(result)
    return result


def wait_settled(
    cluster: Cluster, app: Celery, sent: Sent, *, since: dt.datetime, patience: float
) -> Tally:
    deadline = time.monotonic() + patience
    while True:
        cluster.supervise(app)
        with session_scope() as session:
            current = tally(
                session,
                expected=sent.expected,
                model_version=cluster.model_version,
                since=since,
                sink=cluster.sink,
            )
        if current.settled and _idle(app):
            return current
        if time.monotonic() > deadline:
            return current
        time.sleep(0.5)


def _dead_letters_since(since: dt.datetime) -> int:
    with session_scope() as session:
        return (
            session.scalar(
                select(func.count()).select_from(DeadLetter).where(DeadLetter.created_at >= since)
            )
            or 0
        )


def _idle(app: Celery) -> bool:
    try:
        return broker_backlog(app) == 0
    except Exception:
        return False  # the broker is down: not settled


def names(selected: Sequence[str]) -> list[Scenario]:
    unknown = sorted(set(selected) - set(SCENARIOS))
    if unknown:
        raise KeyError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    return [SCENARIOS[name] for name in selected]
