"""Starting and stopping worker processes the way an operator would: ``celery -A workers ...``."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis
from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

from infra.basic_auth import BasicAuth

log = logging.getLogger(__name__)

# The process that launched a worker, for the worker to stop when it is gone (see
# ``workers.lifecycle``): set for the workers the demo, the bench and the tests start.
LAUNCHER_ENV = "BULKGUARD_LAUNCHER_PID"

# The demo shows its decisions at once: no release delay, and no ban-storm breaker tripping on
# a cold start, where every ban is "more than the baseline" (the breaker is shown by the tests).
DEMO_ENFORCEMENT = {
    "BULKGUARD_RELEASE_DELAY_MIN_SECONDS": "0",
    "BULKGUARD_RELEASE_DELAY_MAX_SECONDS": "0",
    "BULKGUARD_BREAKER_MIN_BANS": "1000000",
}


def stop_with_launcher() -> None:
    """In a process this module started (``LAUNCHER_ENV`` set), send ourselves SIGTERM once the
    launcher is gone, however it died; a process an operator starts is not affected."""
    launcher = os.environ.get(LAUNCHER_ENV)
    if not launcher:
        return

    def watch() -> None:
        while os.getppid() == int(launcher):
            time.sleep(1.0)
        log.warning("launcher %s is gone: shutting down", launcher)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="launcher-watch", daemon=True).start()


@dataclass
class WorkerProcess:
    queue: str
    process: subprocess.Popen[bytes]
    log_path: Path


def worker_command(queue: str, concurrency: int, hostname: str) -> list[str]:
    """The command line of one queue's worker: the same one docker-compose.yml runs."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers",
        "worker",
        "-Q",
        queue,
        "-c",
        str(concurrency),
        "-P",
        "prefork",
        "-n",
        hostname,
        "--without-gossip",
        "--without-mingle",
        "-l",
        "INFO",
    ]


def start_workers(
    concurrency: Mapping[str, int], env: Mapping[str, str], log_dir: Path, tag: str
) -> list[WorkerProcess]:
    log_dir.mkdir(parents=True, exist_ok=True)
    started = []
    for queue, n in concurrency.items():
        log_path = log_dir / f"worker-{queue}.log"
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                worker_command(queue, n, f"{queue}-{tag}@%h"),
                env={**os.environ, **env, LAUNCHER_ENV: str(os.getpid())},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # our Ctrl-C is handled here, not by each worker
            )
        started.append(WorkerProcess(queue, process, log_path))
    return started


def wait_until_ready(
    app: Celery, workers: Sequence[WorkerProcess], tag: str, timeout: float = 90.0
) -> None:
    wanted = {f"{w.queue}-{tag}" for w in workers}
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
_LISTENING = re.compile(rb"flower on (http://\S+/) ")


def start_flower(
    env: Mapping[str, str], auth: BasicAuth, log_path: Path, port: int = 0, timeout: float = 30.0
) -> FlowerProcess:
    """``bulkguard flower`` on loopback with these credentials, once it listens."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
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
        found = _LISTENING.search(log_path.read_bytes())
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
