"""A whole bulkguard on loopback for fault trials: its own Redis, database, data directory,
model, one worker per queue and beat, each a real process that a trial may kill."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from celery import Celery

from infra.db.migrate import upgrade
from infra.db.session import reset_engine, session_scope
from infra.redis_client import reset_redis
from infra.registry import register, set_role
from infra.settings import get_settings
from tasks.offline.training import TrainingConfig, train
from workers.harness.chaos.services import RedisServer
from workers.harness.processes import (
    DEMO_ENFORCEMENT,
    WorkerProcess,
    start_workers,
    wait_until_ready,
)
from workers.launcher import LAUNCHER_ENV

CONCURRENCY = {"scoring": 2, "enforcement": 1, "evidence": 1, "legal": 1, "maintenance": 1}
# Short enough that a trial sees a lost message return, a lost follow-up re-sent and a failed
# delivery retried within a minute; production keeps the derived defaults (docs/reliability.md),
# which a cluster started with ``production_timeouts`` keeps too.
TRIAL_TIMEOUTS = {
    "BULKGUARD_REDIS_VISIBILITY_TIMEOUT_SECONDS": "20",
    "BULKGUARD_OUTBOX_GRACE_SECONDS": "2",
    "BULKGUARD_OUTBOX_REDELIVER_SECONDS": "15",
    "BULKGUARD_DELIVERY_RETRY_SECONDS": "3",
}


@dataclass
class Cluster:
    root: Path
    redis: RedisServer
    database_url: str
    broker_url: str | None  # None: the Redis server carries the tasks too
    # The server of a PostgreSQL database_url, for faults that make it refuse connections.
    postgres_admin_url: str | None = None
    # A trained model to register instead of training one (tests have one already).
    model_dir: Path | None = None
    # Production's visibility timeout, outbox and delivery waits instead of TRIAL_TIMEOUTS.
    # Actions are still released at once: production's random delay of minutes would only add
    # itself to every figure.
    production_timeouts: bool = False
    workers: dict[str, WorkerProcess] = field(default_factory=dict)
    beat: subprocess.Popen[bytes] | None = None
    model_version: str = ""
    deaths: int = 0  # worker processes that died, killed by a trial or not
    exits: list[str] = field(default_factory=list)  # queues whose worker exited on its own

    @property
    def env(self) -> dict[str, str]:
        return {
            "REDIS_URL": self.redis.url,
            "BROKER_URL": self.broker_url or self.redis.url,
            "DATABASE_URL": self.database_url,
            "BULKGUARD_DATA_DIR": str(self.root / "data"),
            **({} if self.production_timeouts else TRIAL_TIMEOUTS),
            **DEMO_ENFORCEMENT,
        }

    @property
    def sink(self) -> Path:
        return get_settings().platform_sink_path

    def start(self) -> Celery:
        """Start Redis, migrate, train and activate a small model, start the workers and beat;
        the app to publish with (this process's settings now point at the cluster)."""
        self.redis.start()
        os.environ.update(self.env)
        get_settings.cache_clear()
        reset_engine()
        reset_redis()
        upgrade()
        models = get_settings().models_dir
        if self.model_dir is not None:
            model_dir = Path(shutil.copytree(self.model_dir, models / self.model_dir.name))
        else:
            model_dir = train(TrainingConfig(accounts=40_000, seed=3, trees=60, depth=5), models)
        with session_scope() as session:
            self.model_version = register(session, model_dir).version
            set_role(session, self.model_version, "active")
        from workers.celery_app import make_app  # noqa: PLC0415 - after the settings point here

        app = make_app(get_settings(), current=False)
        _purge(app)
        for queue in CONCURRENCY:
            self.start_worker(app, queue)
        with (self.root / "beat.log").open("ab") as log:
            self.beat = self._beat(log)
        return app

    def _beat(self, log: BinaryIO) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers",
                "beat",
                "-l",
                "WARNING",
                "--schedule",
                str(self.root / "beat-schedule"),
            ],
            env={**os.environ, **self.env, LAUNCHER_ENV: str(os.getpid())},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self, app: Celery, queue: str) -> None:
        tag = uuid.uuid4().hex[:8]
        # Prefork on every queue, scoring included: the trials kill pool processes apart from
        # their worker (a solo scoring worker's death is the main-process trial's case).
        (worker,) = start_workers(
            {queue: CONCURRENCY[queue]}, self.env, self.root / "logs", tag, pools={}
        )
        self.workers[queue] = worker
        wait_until_ready(app, [worker])

    def pool_children(self, queue: str) -> list[int]:
        pid = self.workers[queue].process.pid
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def kill_pool_process(self, queue: str, rng: random.Random) -> bool:
        children = self.pool_children(queue)
        if not children:
            return False
        os.kill(rng.choice(children), signal.SIGKILL)
        self.deaths += 1
        return True

    def kill_worker(self, app: Celery, queue: str, sig: signal.Signals) -> None:
        """Kill a queue's worker, main process and pool alike (SIGKILL: a crashed host or an
        OOM kill of the container; SIGTERM: a deploy), and start a new one."""
        worker = self.workers[queue]
        pool = self.pool_children(queue)
        if sig == signal.SIGKILL:
            os.killpg(worker.process.pid, signal.SIGKILL)
        else:
            worker.process.send_signal(sig)
        try:
            worker.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait()
        self.deaths += 1 + (len(pool) if sig == signal.SIGKILL else 0)
        self.start_worker(app, queue)

    def supervise(self, app: Celery) -> list[str]:
        """Start again any worker that exited on its own, as a supervisor (compose's
        ``restart: unless-stopped``) does in production; the queues it restarted."""
        exited = [q for q, w in self.workers.items() if w.process.poll() is not None]
        for queue in exited:
            self.deaths += 1
            self.exits.append(queue)
            self.start_worker(app, queue)
        return exited

    def memory_kib(self) -> int:
        """Resident memory of every worker process, main and pool."""
        total = 0
        for queue, worker in self.workers.items():
            for pid in [worker.process.pid, *self.pool_children(queue)]:
                total += _rss_kib(pid)
        return total

    def stop(self) -> None:
        processes: list[subprocess.Popen[bytes]] = [w.process for w in self.workers.values()]
        if self.beat is not None:
            processes.append(self.beat)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.redis.stop()


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _purge(app: Celery) -> None:
    """Empty the task queues: a RabbitMQ shared with earlier runs may hold their messages."""
    with app.connection_for_write() as conn:
        for queue in app.conf.task_queues or ():
            try:
                queue.bind(conn.default_channel).purge()
            except conn.channel_errors:
                continue
