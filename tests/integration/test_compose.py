"""docker-compose.yml, kept honest without Docker.

Each service's own command line is read from the compose file, its ``${VARIABLES}`` substituted
as Compose would, and run here against the test broker and databases: ``celery`` and
``bulkguard`` become this interpreter's ``-m celery`` and ``-m workers.cli``, ``redis-server`` the
local binary, and container addresses (``postgres:5432``, ``redis:6379``, ``/data``) the test
fixtures' own. Every service in the file must have a test here.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis
import yaml
from celery.utils.nodenames import host_format
from itsdangerous import URLSafeTimedSerializer
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine, inspect, text

from infra.db.session import session_scope
from infra.local_redis import server_binary
from tests.console_client import CSRF
from tests.people import PASSWORD, person
from workers.celery_app import app  # its broker is the test one: conftest set REDIS_URL
from workers.config import LONGEST_HARD_LIMIT_SECONDS
from workers.console.state import SESSION_COOKIE
from workers.harness.processes import POOLS, WorkerProcess, stop_workers, wait_until_ready
from workers.queues import QUEUES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "infra" / "Dockerfile"

# What an operator puts in .env next to the compose file; test values here.
COMPOSE_VARIABLES = {
    "POSTGRES_PASSWORD": "pg-test-secret",
    "REDIS_PASSWORD": "redis-test-secret",
    "REDIS_PRODUCER_PASSWORD": "producer-test-secret",
    "REDIS_FLOWER_PASSWORD": "flower-broker-test-secret",
    "REDIS_CONTROL_PASSWORD": "control-test-secret",
    "REDIS_PLATFORM_PASSWORD": "platform-test-secret",
    "FLOWER_USER": "operator",
    "FLOWER_PASSWORD": "flower-test-secret",
    "METRICS_USER": "prometheus",
    "METRICS_PASSWORD": "metrics-test-secret",
    "CONSOLE_SECRET": "console-test-secret-of-at-least-32-characters",
    "LOG_HASH_KEY": "log-hash-test-key",
    "DATA_HASH_KEY": "data-hash-test-key",
}
CONTAINER_DATA_DIR = "/data"

WORKER_SERVICES = {f"worker-{queue}": queue for queue in QUEUES}
# Every service the tests below run or check; a service added to the compose file without a test
# fails test_every_service_is_tested.
TESTED_SERVICES = {
    "redis",
    "postgres",
    "migrate",
    "beat",
    "flower",
    "console",
    "api",
    "metrics",
    *WORKER_SERVICES,
}

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

# A service that does not touch the database runs against SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# --- the compose file, as Compose reads it ---------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>\w+))"
)


def interpolate(value: Any, variables: Mapping[str, str]) -> Any:
    """Compose's variable substitution: $$, $VAR, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:?e},
    ${VAR?e}, ${VAR:+x}, ${VAR+x}; a missing required variable is an error, as in Compose."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        is_set = name in variables
        current = variables.get(name, "")
        present = is_set and (current != "" or not op.startswith(":"))
        if op.endswith("-"):
            return current if present else arg
        if op.endswith("?"):
            if not present:
                raise KeyError(f"required variable {name} is missing: {arg}")
            return current
        if op.endswith("+"):
            return arg if present else ""
        return current

    return _VARIABLE.sub(substitute, value)


@cache
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    result: dict[str, Any] = interpolate(document, COMPOSE_VARIABLES)
    return result


def service(name: str) -> dict[str, Any]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services[name]


def command(name: str) -> list[str]:
    """The service's command as Compose passes it to the container (a string is shell-split)."""
    cmd = service(name)["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def local_command(argv: list[str], data_dir: Path | None = None) -> list[str]:
    """The container's command line, runnable here: our interpreter, our data directory."""
    executables = {
        "celery": [sys.executable, "-m", "celery"],
        "bulkguard": [sys.executable, "-m", "workers.cli"],
    }
    assert argv[0] in executables, f"unexpected executable {argv[0]!r} in {argv}"
    args = argv[1:]
    if data_dir is not None:
        args = [_host_path(arg, data_dir) for arg in args]
    return executables[argv[0]] + args


def _host_path(arg: str, data_dir: Path) -> str:
    option, equals, value = arg.rpartition("=") if arg.startswith("-") else ("", "", arg)
    if value == CONTAINER_DATA_DIR or value.startswith(CONTAINER_DATA_DIR + "/"):
        value = str(data_dir) + value[len(CONTAINER_DATA_DIR) :]
    return f"{option}{equals}{value}"


def service_env(name: str, test_env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """This process's environment plus the service's, with the container addresses replaced by
    the test fixtures' (the compose file must set each of them)."""
    env = environment(name)
    for key, value in test_env.items():
        assert key in env, f"{name} does not set {key} in docker-compose.yml"
        env[key] = value
    return {**os.environ, **env, **extra}


def option(argv: list[str], *names: str) -> str | None:
    for index, arg in enumerate(argv):
        for name in names:
            if arg == name and index + 1 < len(argv):
                return argv[index + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def replace_option(argv: list[str], name: str, value: str) -> list[str]:
    """Set --name=value (or -n value), whichever form argv uses; appended when absent."""
    out = list(argv)
    for index, arg in enumerate(out):
        if arg == name and index + 1 < len(out):
            out[index + 1] = value
            return out
        if arg.startswith(name + "="):
            out[index] = f"{name}={value}"
            return out
    return [
        *out,
        f"{name}={value}" if name.startswith("--") else name,
        *([] if name.startswith("--") else [value]),
    ]


# --- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_text(path: Path, limit: int = 6000) -> str:
    text_ = path.read_text(errors="replace") if path.exists() else "(no log)"
    return f"--- {path.name} ---\n{text_[-limit:]}"


@contextmanager
def running(
    argv: list[str], env: Mapping[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run argv in its own session with output in log_path; on exit, SIGTERM then SIGKILL.

    The working directory is the log's (empty) directory, as the image's WORKDIR is: the
    services must not depend on being started from a source checkout."""
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            argv,
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=log_path.parent,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(
    predicate: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log_path: Path,
    what: str,
    timeout: float = START_TIMEOUT,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode} before {what}\n{log_text(log_path)}")
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{log_text(log_path)}")


def stop(process: subprocess.Popen[bytes], log_path: Path) -> None:
    """SIGTERM, the signal `docker compose stop` sends: the service must exit cleanly."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {STOP_TIMEOUT:.0f}s after SIGTERM\n{log_text(log_path)}")
    assert process.returncode == 0, f"exit status {process.returncode}\n{log_text(log_path)}"


# --- the file as a whole ----------------------------------------------------------------------


def test_every_service_is_tested() -> None:
    assert set(compose()["services"]) == TESTED_SERVICES


def test_required_variables_are_enforced() -> None:
    """Without its secrets the file does not load, instead of starting with empty passwords."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    for missing in COMPOSE_VARIABLES:
        variables = {k: v for k, v in COMPOSE_VARIABLES.items() if k != missing}
        with pytest.raises(KeyError, match=missing):
            interpolate(raw, variables)


def test_application_services_share_image_env_and_data_volume() -> None:
    for name in TESTED_SERVICES - {"redis", "postgres"}:
        spec = service(name)
        assert spec["build"] == {"context": ".", "dockerfile": "infra/Dockerfile"}, name
        env = environment(name)
        assert env["BULKGUARD_DATA_DIR"] == CONTAINER_DATA_DIR, name
        assert urlsplit(env["REDIS_URL"]).hostname == "redis", name
        # Flower watches with the broker's monitoring user; every other service is bulkguard's.
        user = "flower" if name == "flower" else "worker"
        password = COMPOSE_VARIABLES[f"REDIS_{'FLOWER_' if name == 'flower' else ''}PASSWORD"]
        redis_url = urlsplit(env["REDIS_URL"])
        assert (redis_url.username, redis_url.password) == (user, password), name
        assert urlsplit(env["DATABASE_URL"]).hostname == "postgres", name
        assert f"bulkguard-data:{CONTAINER_DATA_DIR}" in spec["volumes"], name
    assert "bulkguard-data" in compose()["volumes"]


def test_workers_wait_for_schema_and_broker_and_get_time_to_finish() -> None:
    for name, queue in WORKER_SERVICES.items():
        spec = service(name)
        assert spec["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert spec["depends_on"]["redis"]["condition"] == "service_healthy"
        grace = re.fullmatch(r"(\d+)s", spec["stop_grace_period"])
        assert grace, spec["stop_grace_period"]
        assert int(grace[1]) > LONGEST_HARD_LIMIT_SECONDS, name
        argv = command(name)
        assert option(argv, "-Q") == queue
        assert option(argv, "-P") == POOLS.get(queue, "prefork")
    assert environment("worker-scoring")["BULKGUARD_MODEL_THREADS"] == "1"


def test_dockerfile_is_slim_unprivileged_and_has_no_cmd() -> None:
    lines = [
        line.strip()
        for line in DOCKERFILE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    instructions = [line.split(None, 1)[0].upper() for line in lines]
    assert "CMD" not in instructions, "each compose service names its own command"
    assert "ENTRYPOINT" not in instructions
    assert any("python:3.11-slim" in line for line in lines)
    final_stage = max(i for i, word in enumerate(instructions) if word == "FROM")
    users = [
        lines[i].split(None, 1)[1]
        for i in range(final_stage, len(lines))
        if instructions[i] == "USER"
    ]
    assert users, "no USER in the final stage: the services would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert any(re.search(r"\bpip install [^&]*\.(\s|$)", line) for line in lines)


# --- postgres: the stock image; real PostgreSQL is the `env` fixture's postgresql param ------


def test_postgres_matches_the_application_url() -> None:
    spec = service("postgres")
    assert spec["image"].split(":")[0] in {"postgres", "docker.io/library/postgres"}
    pg_env = environment("postgres")
    url = urlsplit(environment("migrate")["DATABASE_URL"])
    assert url.scheme == "postgresql+psycopg"
    assert url.username == pg_env["POSTGRES_USER"]
    assert url.password == pg_env["POSTGRES_PASSWORD"] == COMPOSE_VARIABLES["POSTGRES_PASSWORD"]
    assert url.path == "/" + pg_env["POSTGRES_DB"]
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert "pg_isready" in spec["healthcheck"]["test"]


# --- redis ------------------------------------------------------------------------------------


def _shell(script: str, env: Mapping[str, str]) -> int:
    return subprocess.run(
        ["sh", "-c", script], env=dict(env), capture_output=True, timeout=10, check=False
    ).returncode


def test_redis_runs_the_brokers_users_keeps_an_aof_and_never_evicts(tmp_path: Path) -> None:
    """The service's command line starts redis-server through the script it mounts, with the
    broker's users from the compose file's passwords and nobody without a name."""
    argv = command("redis")
    spec = service("redis")
    assert spec["image"].startswith("redis:")
    assert spec["user"] == "redis"  # the image's own user: the script runs no root process
    mounted = {v.split(":")[1]: v.split(":")[0] for v in spec["volumes"] if v.startswith("./")}
    assert argv[:2] == ["sh", "/etc/bulkguard/redis/start-redis.sh"]
    script = ROOT / mounted["/etc/bulkguard/redis"] / "start-redis.sh"
    port = free_port()
    local = ["sh", str(script), *argv[2:], "--port", str(port), "--bind", "127.0.0.1"]
    local += ["--dir", str(tmp_path), "--daemonize", "no"]
    log_path = tmp_path / "redis.log"
    # The script runs redis-server from PATH, as in the image.
    redis_env = {
        **os.environ,
        **environment("redis"),
        "PATH": f"{Path(server_binary()).parent}{os.pathsep}{os.environ['PATH']}",
    }

    # No retries: a refused login is the answer, not a transient error.
    no_retry = Retry(NoBackoff(), retries=0)

    def client(user: str | None, password: str | None) -> redis.Redis:
        return redis.Redis(
            port=port, username=user, password=password, socket_timeout=5, retry=no_retry
        )

    worker = client("worker", COMPOSE_VARIABLES["REDIS_PASSWORD"])
    flower = client("flower", COMPOSE_VARIABLES["REDIS_FLOWER_PASSWORD"])
    anonymous = redis.Redis(port=port, socket_timeout=5, retry=no_retry, protocol=2)
    old_style = client(None, COMPOSE_VARIABLES["REDIS_PASSWORD"])  # requirepass's default user
    wrong = client("worker", "wrong")

    def answers() -> bool:
        try:
            return bool(worker.ping())
        except redis.ConnectionError:
            return False

    try:
        with running(local, redis_env, log_path) as process:
            wait_for(answers, process, log_path, "redis-server to answer")
            # Each role's user, from its own password in the compose file's environment.
            for role in ("producer", "flower", "control", "platform"):
                password = COMPOSE_VARIABLES[f"REDIS_{role.upper()}_PASSWORD"]
                with client(role, password) as each:
                    assert each.ping(), role
            info = worker.info("persistence")
            assert info["aof_enabled"] == 1
            assert worker.info("memory")["maxmemory_policy"] == "noeviction"
            assert int(worker.info("memory")["maxmemory"]) > 0
            with pytest.raises(redis.AuthenticationError, match=r"NOAUTH|[Aa]uthentication"):
                anonymous.ping()
            for refused in (old_style, wrong):
                with pytest.raises(redis.AuthenticationError):
                    refused.ping()
            # bulkguard's own services may not administer the server (infra/redis/users.acl).
            with pytest.raises(redis.exceptions.NoPermissionError):
                worker.config_get("appendonly")
            with pytest.raises(redis.exceptions.NoPermissionError):
                flower.lrange("scoring", 0, -1)

            # The healthcheck, pointed at this port: healthy with the compose env's credentials.
            healthcheck = spec["healthcheck"]["test"]
            if shutil.which("redis-cli") and healthcheck[0] == "CMD-SHELL":
                script_line = healthcheck[1].replace("redis-cli", f"redis-cli -p {port}", 1)
                assert _shell(script_line, redis_env) == 0
                redis_env.pop("REDISCLI_AUTH")
                assert _shell(script_line, redis_env) != 0
            stop(process, log_path)
    finally:
        for each in (worker, flower, anonymous, old_style, wrong):
            each.close()
    assert any(tmp_path.glob("appendonlydir/*.aof")), log_text(log_path)


# --- migrate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrate_brings_an_empty_database_to_head(
    kind: str, request: pytest.FixtureRequest, redis_url: str, tmp_path: Path
) -> None:
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = service_env(
        "migrate",
        {"DATABASE_URL": url, "REDIS_URL": redis_url, "BULKGUARD_DATA_DIR": str(data_dir)},
    )
    argv = local_command(command("migrate"), data_dir)
    # Compose runs it on every `up`: a second run on a migrated schema must succeed too.
    for attempt in (1, 2):
        result = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False
        )
        assert result.returncode == 0, f"run {attempt}:\n{result.stdout}\n{result.stderr}"

    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {
            "alembic_version",
            "scores",
            "enforcement_actions",
            "legal_notices",
            "outbox",
            "dead_letters",
        } <= tables
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        engine.dispose()


# --- one worker per queue ---------------------------------------------------------------------


def test_each_worker_service_consumes_only_its_queue_and_shuts_down_warm(
    env: dict[str, str], tmp_path: Path
) -> None:
    """All worker services at once on one broker, as `docker compose up` runs them."""
    tag = uuid.uuid4().hex[:8]
    data_dir = Path(env["BULKGUARD_DATA_DIR"])
    started: list[WorkerProcess] = []

    def worker_env(name: str) -> dict[str, str]:
        # One health directory per service, as each container has its own /tmp.
        return service_env(name, {**env, "BULKGUARD_HEALTH_DIR": str(tmp_path / name)})

    def logs() -> str:
        return "\n".join(log_text(w.log_path, 3000) for w in started)

    try:
        for name, queue in sorted(WORKER_SERVICES.items()):
            argv = command(name)
            assert option(argv, "-n") == f"{queue}@%h", f"{name}: name the node after its queue"
            # A unique node name per test run; the rest of the command line is the service's.
            local = replace_option(local_command(argv, data_dir), "-n", f"{queue}-{tag}@%h")
            log_path = tmp_path / f"{name}.log"
            with log_path.open("ab") as log_file:
                process = subprocess.Popen(
                    local,
                    env=worker_env(name),
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd=tmp_path,
                    start_new_session=True,
                )
            started.append(WorkerProcess(queue, process, log_path, f"{queue}-{tag}"))
        try:
            wait_until_ready(app, started, timeout=START_TIMEOUT)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}\n{logs()}")

        nodes = {w.queue: host_format(f"{w.queue}-{tag}@%h") for w in started}
        active = (
            app.control.inspect(destination=list(nodes.values()), timeout=5.0).active_queues() or {}
        )
        consumed = {
            queue: sorted(q["name"] for q in active.get(node, [])) for queue, node in nodes.items()
        }
        assert consumed == {queue: [queue] for queue in nodes}, f"{consumed}\n{logs()}"

        # Each container's healthcheck, run as Compose runs it: ready, from its own files.
        for name in sorted(WORKER_SERVICES):
            checked = subprocess.run(
                healthcheck(name), env=worker_env(name), capture_output=True, text=True, check=False
            )
            assert checked.returncode == 0, f"{name}: {checked.stderr}\n{logs()}"

        # SIGTERM, as `docker compose stop` sends: a warm shutdown and a clean exit.
        stop_workers(started, timeout=STOP_TIMEOUT)
        for w in started:
            assert w.process.returncode == 0, (
                f"{w.queue}: exit status {w.process.returncode}\n{log_text(w.log_path)}"
            )
            assert "Warm shutdown" in w.log_path.read_text(errors="replace"), log_text(w.log_path)
        for name in WORKER_SERVICES:
            after = subprocess.run(
                healthcheck(name), env=worker_env(name), capture_output=True, check=False
            )
            assert after.returncode == 1, f"{name}: a stopped worker is not ready"
    finally:
        stop_workers(started, timeout=STOP_TIMEOUT)


# --- beat -------------------------------------------------------------------------------------


@sqlite_only
def test_beat_sends_the_outbox_sweep_to_maintenance(env: dict[str, str], tmp_path: Path) -> None:
    data_dir = Path(env["BULKGUARD_DATA_DIR"])
    argv = local_command(command("beat"), data_dir)
    schedule = option(argv, "--schedule", "-s")
    assert schedule, argv
    assert Path(schedule).parent == data_dir, argv
    log_path = tmp_path / "beat.log"
    broker = redis.Redis.from_url(env["REDIS_URL"])

    def swept() -> bool:
        for raw in broker.lrange("maintenance", 0, -1):
            if json.loads(raw)["headers"]["task"] == "maintenance.sweep_outbox":
                return True
        return False

    try:
        with running(
            argv, service_env("beat", env, BULKGUARD_OUTBOX_GRACE_SECONDS="1"), log_path
        ) as process:
            wait_for(
                swept, process, log_path, "maintenance.sweep_outbox on 'maintenance'", timeout=30
            )
            stop(process, log_path)
    finally:
        broker.close()
    assert list(data_dir.glob(Path(schedule).name + "*")), "beat kept no schedule in /data"


# --- flower and metrics ------------------------------------------------------------------------


def _status(url: str, user: str | None = None, password: str | None = None) -> int:
    headers = {}
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    try:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http on loopback
        with opener.open(request, timeout=10) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code
    except (urllib.error.URLError, ConnectionError):
        return 0


def healthcheck(name: str) -> list[str]:
    """The service's healthcheck command, without Compose's ``CMD``."""
    test = service(name)["healthcheck"]["test"]
    assert test[0] == "CMD", f"{name}: exec form, no shell"
    return local_command([str(part) for part in test[1:]])


def published_on_loopback(name: str, port: int) -> None:
    (published,) = service(name)["ports"]
    assert published == f"127.0.0.1:{port}:{port}", f"{name} must publish on loopback only"


def _operator_service(
    name: str,
    env: dict[str, str],
    tmp_path: Path,
    *,
    port_variable: str | None,
    container_port: int,
    user: str,
    password: str,
) -> None:
    """Run the service's command and its healthcheck: every path refuses strangers; the
    healthcheck passes; without credentials the service refuses to start."""
    published_on_loopback(name, container_port)
    argv = local_command(command(name), Path(env["BULKGUARD_DATA_DIR"]))
    port = free_port()
    overrides = {"BULKGUARD_FLOWER_ADDRESS": "127.0.0.1"} if name == "flower" else {}
    if port_variable is not None:
        overrides[port_variable] = str(port)
    else:
        argv = replace_option(replace_option(argv, "--port", str(port)), "--bind", "127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / f"{name}.log"
    run_env = service_env(name, env, **overrides)

    with running(argv, run_env, log_path) as process:
        wait_for(
            lambda: _status(base + "/", user, password) in {200, 404},
            process,
            log_path,
            f"{name} to answer",
        )
        for path in ("/", "/metrics", "/healthcheck", "/api/workers", "/static/x.css"):
            assert _status(base + path) == 401, path
            assert _status(base + path, user, "wrong") == 401, path
        probe = healthcheck(name)
        if option(probe, "--port"):
            probe = replace_option(probe, "--port", str(port))
        checked = subprocess.run(probe, env=run_env, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr + log_text(log_path)
        stop(process, log_path)
    # The healthcheck fails when nothing answers.
    checked = subprocess.run(probe, env=run_env, capture_output=True, text=True, check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr

    anonymous = {k: v for k, v in run_env.items() if not k.endswith(("_USER", "_PASSWORD"))}
    refused = subprocess.run(
        argv, env=anonymous, capture_output=True, text=True, timeout=60, check=False
    )
    assert refused.returncode != 0
    assert "never served without authentication" in refused.stderr


@sqlite_only
def test_flower_refuses_strangers_on_every_path(env: dict[str, str], tmp_path: Path) -> None:
    flower_env = environment("flower")
    assert flower_env["BULKGUARD_FLOWER_PORT"] == "5555"
    user, password = COMPOSE_VARIABLES["FLOWER_USER"], COMPOSE_VARIABLES["FLOWER_PASSWORD"]
    assert flower_env["BULKGUARD_FLOWER_USER"] == user
    _operator_service(
        "flower",
        env,
        tmp_path,
        port_variable="BULKGUARD_FLOWER_PORT",
        container_port=5555,
        user=user,
        password=password,
    )
    assert (Path(env["BULKGUARD_DATA_DIR"]) / "flower").is_dir(), "Flower keeps its state in /data"


@sqlite_only
def test_metrics_refuse_strangers_on_every_path(env: dict[str, str], tmp_path: Path) -> None:
    user, password = COMPOSE_VARIABLES["METRICS_USER"], COMPOSE_VARIABLES["METRICS_PASSWORD"]
    assert environment("metrics")["BULKGUARD_METRICS_USER"] == user
    assert option(command("metrics"), "--port") == "9808"
    _operator_service(
        "metrics",
        env,
        tmp_path,
        port_variable=None,
        container_port=9808,
        user=user,
        password=password,
    )


# --- console ----------------------------------------------------------------------------------


def test_console_logs_people_in_with_the_deployments_secret(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The service's command line serves the login and the overview; sessions are signed with
    CONSOLE_SECRET (none is made under /data); the healthcheck asks /healthz."""
    published_on_loopback("console", 8400)
    argv = command("console")
    # All of the container's interfaces; the host publishes it on loopback only.
    assert (option(argv, "--host"), option(argv, "--port")) == ("0.0.0.0", "8400")  # noqa: S104
    data_dir = Path(env["BULKGUARD_DATA_DIR"])
    port = free_port()
    local = replace_option(local_command(argv, data_dir), "--port", str(port))
    local = replace_option(local, "--host", "127.0.0.1")
    run_env = service_env("console", env)
    secret = COMPOSE_VARIABLES["CONSOLE_SECRET"]
    assert run_env["BULKGUARD_CONSOLE_SECRET"] == secret
    with session_scope() as session:
        person(session, "alice", "reviewer")
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "console.log"
    probe = replace_option(healthcheck("console"), "--port", str(port))

    with (
        running(local, run_env, log_path) as process,
        httpx.Client(base_url=base, trust_env=False, timeout=10) as client,
    ):
        wait_for(lambda: _status(base + "/healthz") == 200, process, log_path, "/healthz ok")
        form = CSRF.search(client.get("/login").text)
        assert form, log_text(log_path)
        login = {"name": "alice", "password": PASSWORD, "csrf": form.group(1), "next": "/"}
        answer = client.post("/login", data=login)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/"), answer.text
        overview = client.get("/")
        assert overview.status_code == 200, log_text(log_path)
        assert "Review cases" in overview.text
        signer = URLSafeTimedSerializer(secret, salt="bulkguard-console")
        assert signer.loads(client.cookies[SESSION_COOKIE])
        # Responses on a kept-alive connection are not held back by Nagle's algorithm waiting
        # on the client's delayed ACK (40 ms each, the mark of a socket without TCP_NODELAY).
        took = []
        for _ in range(9):
            started = time.perf_counter()
            client.get("/healthz")
            took.append(time.perf_counter() - started)
        assert sorted(took)[4] < 0.035, took
        checked = subprocess.run(probe, env=run_env, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr + log_text(log_path)
        stop(process, log_path)
    assert not (data_dir / "console" / "secret").exists(), "the deployment's secret is used"
    # The healthcheck fails when nothing answers.
    checked = subprocess.run(probe, env=run_env, capture_output=True, text=True, check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr


# --- api --------------------------------------------------------------------------------------


def test_api_serves_upstreams_with_their_keys(env: dict[str, str], tmp_path: Path) -> None:
    """The service's command line serves the api on all of the container's interfaces (two
    processes), published on loopback; a key answers, none is refused; the healthcheck asks
    /healthz."""
    from tests.api_client import api_key, bearer

    published_on_loopback("api", 8500)
    argv = command("api")
    assert (option(argv, "--host"), option(argv, "--port")) == ("0.0.0.0", "8500")  # noqa: S104
    data_dir = Path(env["BULKGUARD_DATA_DIR"])
    port = free_port()
    local = replace_option(local_command(argv, data_dir), "--port", str(port))
    local = replace_option(local, "--host", "127.0.0.1")
    run_env = service_env("api", env)
    key = api_key("crm", "read")
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "api.log"
    probe = replace_option(healthcheck("api"), "--port", str(port))
    with (
        running(local, run_env, log_path) as process,
        httpx.Client(base_url=base, trust_env=False, timeout=10) as client,
    ):
        wait_for(lambda: _status(base + "/healthz") == 200, process, log_path, "/healthz ok")
        assert client.get("/v1/accounts/nobody").status_code == 401
        assert client.get("/v1/accounts/nobody", headers=bearer(key)).status_code == 404
        checked = subprocess.run(probe, env=run_env, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr + log_text(log_path)
        stop(process, log_path)
    checked = subprocess.run(probe, env=run_env, capture_output=True, text=True, check=False)
    assert checked.returncode == 1, checked.stdout + checked.stderr
