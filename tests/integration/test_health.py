"""``bulkguard health live|ready`` against a real worker whose broker goes away and comes back,
and whose main process is frozen: the probes compose runs, asking nothing of the cluster."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from click.testing import CliRunner

from infra.settings import get_settings
from tests.integration.waiting import wait_for
from workers.cli.main import main
from workers.harness.chaos.services import RedisServer
from workers.harness.processes import start_workers, stop_workers
from workers.health import BEAT_SECONDS

STALE = 2 * BEAT_SECONDS


def probe(kind: str, *extra: str) -> str | None:
    """None when healthy, else the reason the probe printed."""
    result = CliRunner().invoke(main, ["health", kind, "--stale-seconds", str(STALE), *extra])
    if result.exit_code == 0:
        return None
    assert result.exit_code == 1, result.output
    return result.output.strip()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_probes_follow_the_broker_connection_and_the_main_loop(env, tmp_path, monkeypatch):
    broker = RedisServer(tmp_path / "broker")
    broker.start()
    health_dir = tmp_path / "health"
    monkeypatch.setenv("BULKGUARD_HEALTH_DIR", str(health_dir))
    get_settings.cache_clear()
    assert probe("live") is not None  # no worker yet

    worker_env = {
        **env,
        "REDIS_URL": broker.url,
        "BROKER_URL": broker.url,
        "BULKGUARD_HEALTH_DIR": str(health_dir),
    }
    tag = uuid.uuid4().hex[:8]
    workers = start_workers({"maintenance": 1}, worker_env, tmp_path / "logs", tag)
    (worker,) = workers

    def logs() -> str:
        return worker.log_path.read_text(errors="replace")[-3000:]

    try:
        wait_for(lambda: probe("ready") is None, 60, f"the worker ready\n{logs()}")
        assert probe("live") is None
        # The one node's files, found by name too.
        assert probe("ready", "--node", f"maintenance-{tag}@{os.uname().nodename}") is None

        # The broker goes away: not ready, but alive (it is reconnecting, as it should).
        broker.crash()
        wait_for(lambda: probe("ready") is not None, 30, "not ready without a broker")
        assert "not consuming" in (probe("ready") or "")
        _stays(lambda: probe("live") is None, STALE + 2 * BEAT_SECONDS, "alive, reconnecting")

        # Back: ready again once Celery has reconnected.
        broker.start()
        wait_for(lambda: probe("ready") is None, 60, f"ready after the broker\n{logs()}")

        # A frozen main process stops beating: no longer live; thawed, live again.
        os.kill(worker.process.pid, signal.SIGSTOP)
        try:
            wait_for(lambda: probe("live") is not None, STALE + 10, "stale when frozen")
            assert "last beat" in (probe("live") or "")
        finally:
            os.kill(worker.process.pid, signal.SIGCONT)
        wait_for(lambda: probe("live") is None, 30, "live again")
    finally:
        stop_workers(workers, timeout=30)
        broker.stop()
    # A stopped worker is not ready.
    assert probe("ready") is not None


def _stays(predicate, seconds: float, what: str) -> None:
    """``predicate`` holds at every check for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), what
        time.sleep(1.0)
