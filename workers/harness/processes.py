"""Starting and stopping worker processes the way an operator would: ``celery -A workers ...``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis
from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

from infra.basic_auth import BasicAuth
from workers.launcher import LAUNCHER_ENV

# The demo shows its decisions at once: no release delay, and no ban-storm breaker tripping on
# a cold start, where every ban is "more than the baseline" (the breaker is shown by the tests).
DEMO_ENFORCEMENT = {
    "BULKGUARD_RELEASE_DELAY_MIN_SECONDS": "0",
    "BULKGUARD_RELEASE_DELAY_MAX_SECONDS": "0",
    "BULKGUARD_BREAKER_MIN_BANS": "1000000",
}


# The pool each queue's workers run. Scoring is CPU-bound and its messages are large: a solo
# worker decodes each batch and runs it in one process, where the prefork parent decodes it,
# re-encodes it for the unacked index and pickles it down a pipe to a child (about a quarter of
# the CPU per account, by the bench); scoring scales with one solo process per core, each
# supervised like any service, and gets its time limits from ``workers.solo_limits``. The other
# queues wait on I/O more than they compute, and keep prefork's pool of processes.
POOLS: Mapping[str, str] = {"scoring": "solo"}


@dataclass
class WorkerProcess:
    queue: str
    process: subprocess.Popen[bytes]
    log_path: Path
    # Its node name before the "@": "<queue>-<tag>", or "<queue>-<tag>-<n>" for each of a solo
    # queue's processes.
    name: str


def worker_command(queue: str, concurrency: int, hostname: str, pool: str = "prefork") -> list[str]:
    """The command line of one queue's worker: the same one docker-compose.yml runs. A solo
    worker is one process; ``concurrency`` applies to prefork."""
    sizing = ["-c", str(concurrency)] if pool == "prefork" else []
    return [
        sys.executable,
        *("-m", "celery", "-A", "workers", "worker", "-Q", queue),
        *sizing,
        *("-P", pool, "-n", hostname),
        *("--without-gossip", "--without-mingle", "-l", "INFO"),
    ]


def start_workers(
    concurrency: Mapping[str, int],
    env: Mapping[str, str],
    log_dir: Path,
    tag: str,
    pools: Mapping[str, str] = POOLS,
) -> list[WorkerProcess]:
    """Each queue's worker: one prefork worker of ``concurrency`` processes, or as many solo
    workers (``pools``, by queue; prefork where unnamed)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started = []
    for queue, n in concurrency.items():
        pool = pools.get(queue, "prefork")
        names = (
            [f"{queue}-{tag}"] if pool == "prefork" else [f"{queue}-{tag}-{i}" for i in range(n)]
        )
        for name in names:
            log_path = log_dir / f"worker-{name.replace(f'-{tag}', '')}.log"
            with log_path.open("ab") as log_file:
                process = subprocess.Popen(
                    worker_command(queue, n, f"{name}@%h", pool),
                    env={**os.environ, **env, LAUNCHER_ENV: str(os.getpid())},
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # our Ctrl-C is handled here, not by each worker
                )
            started.append(WorkerProcess(queue, process, log_path, name))
    return started


def wait_until_ready(app: Celery, workers: Sequence[WorkerProcess], timeout: float = 90.0) -> None:
    """Until every worker in ``workers`` answers a ping."""
    wanted = {w.name for w in workers}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for w in workers:
            if w.process.poll() is not None:
                tail = w.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the {w.queue} worker exited on start:\n{tail}")
        try:
            replies = app.control.ping(timeout=1.0) or []
        except (ConnectionError, BrokerError, redis.RedisError):
            # The broker is restarting (a fault trial, a failover): ask again.
            time.sleep(0.5)
            continue
        seen = {name.split("@", 1)[0] for reply in replies for name in reply}
        if wanted <= seen:
            return
    raise TimeoutError(f"workers not ready after {timeout:.0f}s: missing {sorted(wanted)}")


def stop_workers(workers: Sequence[WorkerProcess], timeout: float = 60.0) -> None:
    """Warm shutdown (SIGTERM): running tasks finish and are acknowledged first."""
    for w in workers:
        if w.process.poll() is None:
            w.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for w in workers:
        remaining = max(deadline - time.monotonic(), 0.1)
        try:
            w.process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            os.killpg(w.process.pid, signal.SIGKILL)
            w.process.wait()


@dataclass
class FlowerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path


# The line ``bulkguard flower`` prints once it listens (see ``workers.cli.flower``).
_FLOWER_LISTENING = re.compile(rb"flower on (http://\S+/) ")


def start_flower(
    env: Mapping[str, str], auth: BasicAuth, log_path: Path, port: int = 0, timeout: float = 30.0
) -> FlowerProcess:
    """``bulkguard flower`` on loopback with these credentials, once it listens."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = log_path.stat().st_size if log_path.exists() else 0  # as start_console's
    argv = [sys.executable, "-m", "workers.cli", "flower", "--address=127.0.0.1", f"--port={port}"]
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            argv,
            env={
                **os.environ,
                **env,
                "BULKGUARD_FLOWER_USER": auth.user,
                "BULKGUARD_FLOWER_PASSWORD": auth.password,
                LAUNCHER_ENV: str(os.getpid()),
            },
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _FLOWER_LISTENING.search(log_path.read_bytes()[start:])
        if found:
            return FlowerProcess(process, found.group(1).decode(), log_path)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop_flower(FlowerProcess(process, "", log_path))
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"flower did not start listening:\n{tail}")


def stop_flower(flower: FlowerProcess, timeout: float = 15.0) -> None:
    """SIGTERM: Flower saves its state, then exits."""
    if flower.process.poll() is None:
        flower.process.send_signal(signal.SIGTERM)
    try:
        flower.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(flower.process.pid, signal.SIGKILL)
        flower.process.wait()


@dataclass
class ConsoleProcess:
    """A web server of bulkguard's (the console, or the api) and where it listens."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path


# The line ``bulkguard console serve`` (``api serve``) prints once it listens.
_HTTP_LISTENING = re.compile(rb"(?:console|api) on (http://\S+/)")


def start_console(
    env: Mapping[str, str], log_path: Path, port: int = 0, timeout: float = 60.0
) -> ConsoleProcess:
    """``bulkguard console serve`` on loopback, once it listens and its /healthz answers ok (the
    schema is migrated and the database answers)."""
    return start_http_server("console", env, log_path, port=port, timeout=timeout)


def start_api(
    env: Mapping[str, str],
    log_path: Path,
    port: int = 0,
    timeout: float = 60.0,
    processes: int = 1,
) -> ConsoleProcess:
    """``bulkguard api serve`` on loopback, once it listens and its /healthz answers ok."""
    return start_http_server(
        "api", env, log_path, port=port, timeout=timeout, extra=[f"--workers={processes}"]
    )


def start_http_server(
    command: str,
    env: Mapping[str, str],
    log_path: Path,
    *,
    port: int,
    timeout: float,
    extra: Sequence[str] = (),
) -> ConsoleProcess:
    """``bulkguard COMMAND serve`` on loopback, once its /healthz answers."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # The log is appended to: only what this process writes names its address (a demo run
    # again finds its last run's line, with another port, at the top).
    start = log_path.stat().st_size if log_path.exists() else 0
    argv = [sys.executable, "-m", "workers.cli", command, "serve", "--host=127.0.0.1", *extra]
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [*argv, f"--port={port}"],
            env={**os.environ, **env, LAUNCHER_ENV: str(os.getpid())},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        found = _HTTP_LISTENING.search(log_path.read_bytes()[start:])
        if found and console_healthy(found.group(1).decode()):
            return ConsoleProcess(process, found.group(1).decode(), log_path)
        time.sleep(0.1)
    stop_console(ConsoleProcess(process, "", log_path))
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"the {command} did not become healthy:\n{tail}")


def console_healthy(url: str) -> bool:
    """Whether the console (or the api) at ``url`` answers ok on /healthz."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    try:
        with opener.open(url.rstrip("/") + "/healthz", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop_console(console: ConsoleProcess, timeout: float = 15.0) -> None:
    """SIGTERM: uvicorn finishes the requests in flight, then exits."""
    if console.process.poll() is None:
        console.process.send_signal(signal.SIGTERM)
    try:
        console.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(console.process.pid, signal.SIGKILL)
        console.process.wait()
