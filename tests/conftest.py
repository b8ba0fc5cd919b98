"""Shared fixtures: a real Redis, real SQLite and PostgreSQL databases, a small trained model.

The broker URL is fixed for the whole session before anything imports the Celery app, on its own
Redis database number, so tests never touch the demo's queues; tests parametrized with
``broker_url`` run on RabbitMQ as well. Each test that needs a database gets a fresh one,
migrated with Alembic, and points the settings at it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import redis
from filelock import FileLock
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

# Each pytest-xdist worker ("gw0", "gw1", …) gets Redis databases of its own: the configured
# one less its index for queues and stores, and that one plus 8 (mod 16) as a spare for tests
# that need a second, empty database. PostgreSQL databases and data directories are already
# per test or per process (random names, tmp_path), so nothing else is shared between workers.
WORKER_INDEX = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _redis_db(url: str, offset: int) -> str:
    base, _, db = url.rpartition("/")
    return f"{base}/{(int(db or 0) + offset) % 16}"


TEST_REDIS_URL = _redis_db(
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), -WORKER_INDEX
)
SPARE_REDIS_URL = _redis_db(TEST_REDIS_URL, 8)
os.environ["REDIS_URL"] = TEST_REDIS_URL
os.environ.pop("BROKER_URL", None)  # the broker is Redis unless a test asks for another
TEST_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# CI sets this so that a PostgreSQL that is down fails the run instead of skipping its tests.
REQUIRE_POSTGRES = os.environ.get("BULKGUARD_REQUIRE_POSTGRES") == "1"
# The second broker: tests that take ``broker_url`` as a parameter run on it too. Its queues
# are purged before each such test; nothing else may use them.
TEST_RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
REQUIRE_RABBITMQ = os.environ.get("BULKGUARD_REQUIRE_RABBITMQ") == "1"

from infra.db.migrate import upgrade  # noqa: E402
from infra.db.scratch import scratch_database  # noqa: E402
from infra.db.session import make_engine, reset_engine  # noqa: E402
from infra.local_redis import LocalRedisError, ensure_redis  # noqa: E402
from infra.redis_client import reset_redis  # noqa: E402
from infra.registry import read_card  # noqa: E402
from infra.settings import get_settings  # noqa: E402
from tasks.offline.thresholds import ReviewBudget  # noqa: E402
from tasks.offline.training import TrainingConfig, train  # noqa: E402
from tasks.scoring.model import Scorer  # noqa: E402
from tests.platform_receiver import Receiver, running_receiver  # noqa: E402
from tests.redis_cluster import LocalRedisCluster  # noqa: E402
from workers.harness.processes import DEMO_ENFORCEMENT  # noqa: E402

# Property tests judge what the code does, not how fast a loaded machine runs it: the suite
# shares two cores with real workers, where Hypothesis's per-example deadline and its "too slow"
# check fail a correct test now and then.
hypothesis.settings.register_profile(
    "bulkguard",
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.load_profile("bulkguard")

_LOCAL_REDIS = pytest.StashKey[ExitStack]()
_LOCAL_REDIS_ERROR = "BULKGUARD_TEST_REDIS_ERROR"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start a local redis-server for the whole run when none answers: once, in the process
    that outlives every pytest-xdist worker, so that no worker stops it under another. Unit
    tests need no Redis, so a machine that cannot start one fails only the tests that use it."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: its controller has done this before starting it
    stack = ExitStack()
    try:
        stack.enter_context(ensure_redis(TEST_REDIS_URL))
    except LocalRedisError as exc:
        os.environ[_LOCAL_REDIS_ERROR] = str(exc)  # workers inherit the controller's environment
    session.config.stash[_LOCAL_REDIS] = stack


def pytest_sessionfinish(session: pytest.Session) -> None:
    stack = session.config.stash.get(_LOCAL_REDIS, None)
    if stack is not None:
        stack.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration."""
    integration = Path(__file__).parent / "integration"
    for item in items:
        if integration in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """This worker's test database on the configured Redis, or on the local redis-server
    started for the run."""
    if _LOCAL_REDIS_ERROR in os.environ:
        pytest.fail(os.environ[_LOCAL_REDIS_ERROR], pytrace=False)
    client = redis.Redis.from_url(TEST_REDIS_URL)
    client.flushdb()
    yield TEST_REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def spare_redis_url(redis_url: str) -> Iterator[str]:
    """A second, empty Redis database of this worker's, for code that empties its own."""
    yield SPARE_REDIS_URL
    redis.Redis.from_url(SPARE_REDIS_URL).flushdb()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRedisCluster]:
    """A real three-primary Redis Cluster on loopback, started for the session when asked for."""
    cluster = LocalRedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The RabbitMQ test broker; its tests are skipped when none answers, unless CI requires it."""
    from kombu import Connection

    try:
        with Connection(TEST_RABBITMQ_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        if REQUIRE_RABBITMQ:
            pytest.fail(f"RabbitMQ is required but does not answer at {TEST_RABBITMQ_URL}: {exc}")
        pytest.skip(f"no RabbitMQ at {TEST_RABBITMQ_URL}")
    return TEST_RABBITMQ_URL


@pytest.fixture
def broker_url(request: pytest.FixtureRequest, redis_url: str) -> Iterator[str]:
    """The broker of one test: Redis unless the test is parametrized with ``"rabbitmq"``
    (``@pytest.mark.parametrize("broker_url", ["redis", "rabbitmq"], indirect=True)``), whose
    queues it holds alone (``rabbitmq_queues``)."""
    kind = getattr(request, "param", "redis")
    if kind == "redis":
        yield redis_url
        return
    assert kind == "rabbitmq", kind
    url: str = request.getfixturevalue("rabbitmq_queues")
    yield url


@pytest.fixture
def rabbitmq_queues(rabbitmq_url: str) -> Iterator[str]:
    """The RabbitMQ test broker with its task queues emptied and this test's alone: the machine's
    lock on that broker is held for the whole test, since its queues are one for every xdist
    worker (and every other test run here), and two tests on them at once would consume each
    other's messages."""
    with FileLock(_rabbitmq_lock_path(rabbitmq_url)):
        _purge_rabbitmq_queues(rabbitmq_url)
        yield rabbitmq_url


def _rabbitmq_lock_path(url: str) -> Path:
    """One lock file per broker URL, where every process on the machine finds it."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"bulkguard-test-rabbitmq-{digest}.lock"


def _purge_rabbitmq_queues(url: str) -> None:
    """Empty the task queues, as the Redis fixture flushes its database."""
    from kombu import Connection

    from workers.queues import QUEUES

    with Connection(url) as conn:
        for queue in QUEUES:
            channel: Any = conn.channel()  # kombu's stubs leave AMQP's methods off its type
            try:
                channel.queue_purge(queue)
            except conn.channel_errors:
                pass  # not declared yet
            finally:
                try:
                    channel.close()
                except conn.channel_errors + conn.connection_errors:
                    pass


def _postgres_available() -> bool:
    try:
        engine = create_engine(TEST_POSTGRES_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception:
        return False
    return True


@contextmanager
def _new_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the local server, dropped afterwards."""
    if not _postgres_available():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but does not answer at {TEST_POSTGRES_URL}")
        pytest.skip(f"no PostgreSQL at {TEST_POSTGRES_URL}")
    with scratch_database(TEST_POSTGRES_URL, "bulkguard_test") as url:
        yield url


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test."""
    with _new_postgres_database() as url:
        try:
            yield url
        finally:
            reset_engine()  # this process's connections to it, before it is dropped


@pytest.fixture(scope="session")
def postgres_session_database() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole run, for tests that roll back."""
    with _new_postgres_database() as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def session_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine on one migrated database of each supported kind, shared by the whole run."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'bulkguard.sqlite3'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_session_database")
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        # pysqlite begins transactions itself, and not before a SAVEPOINT: let SQLAlchemy say
        # when, so that a test's savepoints nest inside the transaction it rolls back.
        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN")

    yield engine
    engine.dispose()


@pytest.fixture
def session(session_engine: Engine) -> Iterator[Session]:
    """A session on a real database inside a transaction that is rolled back after the test,
    as the task shell's would be if its body failed: what a stage body wrote is visible to the
    test, and nothing outlives it."""
    connection = session_engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once per worker, copied for each test that needs a
    fresh one: running every migration again costs each such test about half a second."""
    path = tmp_path_factory.mktemp("template") / "bulkguard.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per worker, the template of each test's
    fresh one (``CREATE DATABASE ... TEMPLATE``); nothing stays connected to it."""
    with _new_postgres_database() as url:
        upgrade(url)
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each supported kind, migrated to head: a copy of the worker's
    migrated template."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        path = tmp_path / "bulkguard.sqlite3"
        with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
            source.backup(target)
        yield f"sqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("migrated_postgres_template")
    with scratch_database(TEST_POSTGRES_URL, "bulkguard_test", template=template_name) as url:
        try:
            yield url
        finally:
            reset_engine()  # this process's connections to it, before it is dropped


@pytest.fixture
def env(
    database_url: str,
    redis_url: str,
    broker_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    """Point this process's settings (and any worker started with the returned environment)
    at the test database, the test Redis and broker, and a private data directory."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    values = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BROKER_URL": broker_url,
        "BULKGUARD_DATA_DIR": str(data_dir),
        **DEMO_ENFORCEMENT,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    reset_engine()
    reset_redis()
    redis.Redis.from_url(redis_url).flushdb()
    yield values
    reset_engine()
    reset_redis()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def cached_training(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[TrainingConfig], Path]:
    """Train on simulated data (same code as `bulkguard train`) once per config and content of
    the code that makes the model: kept in pytest's cache under a hash of the config, the
    library versions and every source file of ``tasks`` and ``infra``, so that parallel
    workers and later runs share it and any change to that code trains it anew. Tests copy
    the model before changing anything of it."""
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider

    def cached(config: TrainingConfig) -> Path:
        name = f"bulkguard-model-{_training_hash(config)}"
        root = cache.mkdir(name) if cache is not None else tmp_path_factory.mktemp(name)
        with FileLock(str(root) + ".lock"):
            done = root / "trained"
            if done.exists():
                return root / done.read_text()
            for partial in root.iterdir():  # left by a run that was stopped while training
                shutil.rmtree(partial) if partial.is_dir() else partial.unlink()
            model_dir = train(config, root)
            done.write_text(model_dir.name)  # written last: the model directory is complete
            return model_dir

    return cached


@pytest.fixture(scope="session")
def trained_model_dir(cached_training: Callable[[TrainingConfig], Path]) -> Path:
    """The session's model: small, and with review cases at every stage."""
    # 40,000 accounts: the validation split must hold enough abusers for a 99.5% ban precision
    # to be certified at 95% confidence; a smaller model would (rightly) never ban. Its review
    # band is set by precision alone (no caps, no budget), so that the tests of review cases have
    # cases at every stage even in small batches: the default procedure keeps each stage's review
    # band under 1% of its accounts (tests/unit/test_review_budget.py).
    budget = ReviewBudget(
        share=1.0,
        casual_cap=1.0,
        lookalike_cap=1.0,
        casual_review_cap=1.0,
        lookalike_review_cap=1.0,
    )
    return cached_training(
        TrainingConfig(accounts=40_000, seed=3, trees=60, depth=5, budget=budget)
    )


def _training_hash(config: object) -> str:
    """What the session's model depends on: its config, the libraries that fit it, the code."""
    digest = hashlib.sha256(repr(config).encode())
    for package in ("xgboost-cpu", "numpy", "scikit-learn"):
        digest.update(f"{package}={version(package)}".encode())
    root = Path(__file__).resolve().parents[1]
    for path in sorted([*root.glob("tasks/**/*.py"), *root.glob("infra/**/*.py")]):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def scorer(trained_model_dir: Path) -> Scorer:
    """The session's model, loaded as a worker loads it."""
    card = read_card(trained_model_dir)
    return Scorer.load(card["version"], trained_model_dir / "model.ubj", card, threads=1)


@pytest.fixture
def active_model(env: dict[str, str], trained_model_dir: Path) -> str:
    """The session's model copied into this test's registry and activated."""
    from infra.db.session import session_scope
    from infra.registry import register, set_role

    models_dir = get_settings().models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / trained_model_dir.name
    shutil.copytree(trained_model_dir, target)
    with session_scope() as session:
        row = register(session, target)
        set_role(session, row.version, "active")
        return row.version


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The platform's webhook receiver on loopback (``tests.platform_receiver``)."""
    with running_receiver() as running:
        yield running
