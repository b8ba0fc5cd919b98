"""Real worker processes: ``celery -A workers worker``, each queue with the pool it runs in
production (``workers.harness.processes.POOLS``: solo scoring workers, prefork elsewhere)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from celery import Celery

from infra.settings import get_settings
from tests.integration.browser import Chromium, ConsolePage, chromium, headless
from tests.integration.smtp_relay import Relay, relays
from tests.integration.waiting import wait_for
from workers.harness.processes import (
    POOLS,
    ConsoleProcess,
    WorkerProcess,
    start_console,
    start_workers,
    stop_console,
    stop_workers,
    wait_until_ready,
)
from workers.harness.report import wait_until_drained
from workers.launcher import LAUNCHER_ENV

ALL_QUEUES = {"scoring": 2, "enforcement": 1, "evidence": 1, "legal": 1, "maintenance": 1}


class Workers:
    def __init__(self, app: Celery, processes: list[WorkerProcess]) -> None:
        self.app = app
        self.processes = processes

    def alive(self) -> bool:
        return all(w.process.poll() is None for w in self.processes)

    def logs(self) -> str:
        return "\n".join(
            f"--- {w.queue} ---\n{w.log_path.read_text(errors='replace')[-4000:]}"
            for w in self.processes
        )

    def logs_whole(self) -> str:
        """Every line every worker logged."""
        return "\n".join(w.log_path.read_text(errors="replace") for w in self.processes)

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 60, what: str = "condition"
    ) -> None:
        try:
            wait_for(predicate, timeout, what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from exc

    def drain(self, account_ids: list[str], version: str, timeout: float = 120) -> dict[str, int]:
        try:
            return wait_until_drained(
                self.app,
                account_ids=account_ids,
                model_version=version,
                timeout=timeout,
                interval=0.5,
            )
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from exc


@pytest.fixture
def broker_app(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Celery]:
    """The app this process publishes with: the module's own on the session's Redis, or one made
    for this test's broker and put where the CLI finds it."""
    import workers.celery_app as module

    settings = get_settings()
    if settings.resolved_broker_url == module.app.conf.broker_url:
        yield module.app
        return
    app = module.make_app(settings, current=False)
    monkeypatch.setattr(module, "app", app)
    yield app
    app.close()


@pytest.fixture
def start(
    env: Mapping[str, str], broker_app: Celery, tmp_path: Path
) -> Iterator[Callable[..., Workers]]:
    """Start real workers for the given queues against this test's database and broker."""
    app = broker_app
    started: list[WorkerProcess] = []

    def _start(
        concurrency: Mapping[str, int] = ALL_QUEUES,
        extra_env: Mapping[str, str] | None = None,
        pools: Mapping[str, str] = POOLS,
    ) -> Workers:
        tag = uuid.uuid4().hex[:8]
        processes = start_workers(
            concurrency, {**env, **(extra_env or {})}, tmp_path / f"logs-{tag}", tag, pools
        )
        started.extend(processes)
        wait_until_ready(app, processes)
        return Workers(app, processes)

    yield _start
    stop_workers(started, timeout=30)


@pytest.fixture
def relay() -> Iterator[Callable[[int], Relay]]:
    """Start a real SMTP server on loopback (``tests.integration.smtp_relay``): ``relay(defer)``
    gives its inbox and the environment a worker sends through it with."""
    with relays() as start_relay:
        yield start_relay


@pytest.fixture
def start_beat(env: Mapping[str, str], tmp_path: Path) -> Iterator[Callable[[], Path]]:
    """Start ``celery -A workers beat`` as compose runs it, against this test's Redis and broker;
    returns its log. Stopped (SIGTERM, as compose stops it) after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def _start() -> Path:
        log_path = tmp_path / "beat.log"
        argv = [sys.executable, "-m", "celery", "-A", "workers", "beat", "-l", "INFO"]
        with log_path.open("ab") as log_file:
            started.append(
                subprocess.Popen(
                    [*argv, "--schedule", str(tmp_path / "beat-schedule")],
                    env={**os.environ, **env, LAUNCHER_ENV: str(os.getpid())},
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        return log_path

    yield _start
    for beat in started:
        beat.send_signal(signal.SIGTERM)
        try:
            beat.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(beat.pid, signal.SIGKILL)
            beat.wait()


@pytest.fixture(scope="session")
def chromium_paths() -> Chromium:
    """Chromium and chromedriver, or a skip (a failure in CI) before anything is started."""
    return chromium()


@pytest.fixture
def console_server(env: Mapping[str, str], tmp_path: Path) -> Iterator[ConsoleProcess]:
    """``bulkguard console serve --port 0`` against this test's database and Redis, once its
    /healthz answers; stopped (SIGTERM) after the test. Its log: ``console_server.log_path``."""
    server = start_console(env, tmp_path / "console.log")
    try:
        yield server
    finally:
        stop_console(server)


@pytest.fixture
def browser(chromium_paths: Chromium, console_server: ConsoleProcess) -> Iterator[ConsolePage]:
    """A headless Chromium on the console (``tests.integration.browser.ConsolePage``)."""
    with headless(chromium_paths) as driver:
        yield ConsolePage(driver, console_server.url)


@pytest.fixture
def second_browser(
    chromium_paths: Chromium, console_server: ConsoleProcess
) -> Iterator[ConsolePage]:
    """Another person's browser on the same console, beside ``browser``: a profile of its own,
    so its own cookies and session."""
    with headless(chromium_paths) as driver:
        yield ConsolePage(driver, console_server.url)
