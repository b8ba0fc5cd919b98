"""A retention run killed for real (SIGKILL, mid-run, as an OOM kill or a lost host would) is
resumed by the next run, which keeps the first one's cut-off and finishes with the counts an
uninterrupted run has on the same rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import Account, RetentionRun
from infra.db.partitions import Month, ensure_partitions, is_partitioned, months
from infra.db.session import session_scope
from tests.retention_seed import LONG_AGO, person

PERSONS = 600


def _seed(prefix: str) -> None:
    with session_scope() as session:
        if is_partitioned(session):
            # The persons' month gets partitions of its own, which the run drops whole.
            ensure_partitions(session, LONG_AGO, ahead=0)
        for i in range(PERSONS):
            person(
                session,
                f"{prefix}{i}",
                f"+4219{prefix == 'b':d}{i:08d}",
                allowed_neighbour=f"{prefix}{i}-ok",
            )


def _cli(env: dict[str, str], output: Any = subprocess.PIPE) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "retention", "run", "--json"],
        env={**os.environ, **env},
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def _run(session: Session) -> RetentionRun | None:
    return session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc())).first()


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_killed_run_resumes_to_the_same_counts(env: dict[str, str]) -> None:
    _seed("a")
    whole = _cli(env)
    out, _ = whole.communicate(timeout=120)
    assert whole.returncode == 0, out
    expected = json.loads(out)["deleted"]

    _seed("b")
    killed = _cli(env, subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    progress: dict[str, int] = {}
    while time.monotonic() < deadline:
        with session_scope() as session:
            run = _run(session)
            if run is not None and run.finished_at is None and sum(run.counts.values()):
                progress = dict(run.counts)
                break
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    assert progress, "the run finished before it could be killed"
    with session_scope() as session:
        stopped = _run(session)
        assert stopped is not None
        assert stopped.finished_at is None
        assert sum(stopped.counts.values()) < sum(expected.values())

    again = _cli(env)
    out, _ = again.communicate(timeout=120)
    assert again.returncode == 0, out
    resumed = json.loads(out)
    assert resumed["resumed"]
    assert resumed["finished"]
    assert resumed["run_id"] == stopped.id
    assert resumed["now"] == stopped.now.isoformat()
    assert resumed["deleted"] == expected
    with session_scope() as session:
        assert not session.scalar(select(func.count()).select_from(Account))
        if is_partitioned(session):
            assert Month.of(LONG_AGO) not in months(session)  # dropped whole
