"""The CLI shows the URLs it works on with their passwords masked."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rich.console import Console
from sqlalchemy.engine import make_url

from infra.settings import get_settings

SECRET = "Sup3r-s3cret-pw"


def test_db_upgrade_prints_the_database_url_without_its_password(postgres_database: str) -> None:
    url = make_url(postgres_database)
    if url.password is None:
        url = url.set(password=SECRET)  # the local test server trusts loopback: any will do
    password = str(url.password)
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli", "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": url.render_as_string(hide_password=False)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert password not in output
    shown = "".join(output.split())  # rich wraps long lines at the terminal's width
    assert f"schemaatheadon{url.render_as_string(hide_password=True)}" in shown


class _StopHereError(Exception):
    pass


def test_the_demo_prints_the_redis_url_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from workers.harness import demo

    monkeypatch.setenv("REDIS_URL", f"redis://:{SECRET}@127.0.0.1:6399/0")
    monkeypatch.setenv("BULKGUARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()

    @contextmanager
    def no_redis_answered(_url: str) -> Iterator[bool]:
        yield True

    def stop() -> None:
        raise _StopHereError

    monkeypatch.setattr(demo, "ensure_redis", no_redis_answered)
    monkeypatch.setattr(demo, "upgrade", stop)  # the first step after the message
    out = io.StringIO()
    try:
        with pytest.raises(_StopHereError):
            demo.run_demo(10, 1, tmp_path / "report.json", Console(file=out, width=200))
    finally:
        get_settings.cache_clear()
    printed = out.getvalue()
    assert "No Redis answered at redis://:***@127.0.0.1:6399/0" in printed
    assert SECRET not in printed
