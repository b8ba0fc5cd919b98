"""Typed settings read from the environment, in one place.

Everything that differs between the embedded demo and production comes through here;
the Celery configuration in ``workers.config`` is derived from these values.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BULKGUARD_", extra="ignore")

    data_dir: Path = Field(default=Path("./data"))
    # Accept the conventional unprefixed names that every deployment tool knows.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", validation_alias="REDIS_URL")
    # The Celery broker: Redis (the default: REDIS_URL's server) or RabbitMQ (``amqp://``), whose
    # guarantees differ (docs/reliability.md, "Brokers"). Redis keeps the neighbourhood counters
    # whichever broker carries the tasks. Unset or empty means REDIS_URL.
    broker_url: str | None = Field(default=None, validation_alias="BROKER_URL")
    # Redis only: seconds before a message delivered but never acknowledged (its worker died) is
    # handed out again. Unset, workers.config derives it from the longest task; set it lower only
    # for fault trials and tests, whose tasks are short.
    redis_visibility_timeout_seconds: int | None = Field(default=None, ge=1)
    # Where the scoring stage's neighbourhood counters live: unset or empty, REDIS_URL's server;
    # any node of a Redis Cluster spreads them across the cluster's primaries (detected on
    # connect; docs/model.md, "Counters on a Redis Cluster").
    counters_redis_url: str | None = None

    # Enforcement safety valve: in shadow mode decisions are recorded but nothing is enforced.
    enforcement_mode: Literal["enforce", "shadow"] = "enforce"
    # The enforcement policy file (TOML; ``bulkguard policy check`` validates one). Unset, the
    # policy shipped with bulkguard applies. Workers pick up a change within seconds.
    policy_file: Path | None = None
    # Each automatic ban or restriction is put in force at a random moment this many seconds
    # after it is decided, so abusers cannot time the detector (0 and 0: at once, as the demo).
    release_delay_min_seconds: int = Field(default=300, ge=0)
    release_delay_max_seconds: int = Field(default=3600, ge=0)
    # The ban-storm breaker opens when the automatic bans of the last window exceed ``multiple``
    # times the rate of the trailing baseline, and at least ``min_bans``.
    breaker_window_minutes: int = Field(default=10, ge=1)
    breaker_baseline_hours: int = Field(default=24, ge=1)
    breaker_multiple: float = Field(default=5.0, gt=1)
    breaker_min_bans: int = Field(default=200, ge=1)
    # The legal policy's version, stamped on every legal evaluation and notice.
    policy_version: str = "2019-12-07.2"

    # Threads XGBoost may use inside one worker process. Processes x threads must not
    # exceed the cores, so the default is one thread per prefork child.
    model_threads: int = Field(default=1, ge=1)

    # Where enforcement actions go (docs/platform-delivery.md). Unset: a JSONL file under the data
    # directory, which keeps the demo self-contained; ``http://`` or ``https://``: the platform's
    # webhook, each request signed with ``platform_webhook_secret``; ``stream:NAME``: the Redis
    # Stream NAME on ``platform_stream_url`` (unset: REDIS_URL's server); anything else: the path
    # of a JSONL file.
    platform_sink: str | None = None
    platform_webhook_secret: SecretStr | None = None
    # One webhook attempt makes up to ``webhook_tries`` requests, each waiting at most this long
    # to connect and as long again for the answer, with waits of a few seconds between them: keep
    # the whole inside the minute that the delivering tasks may run.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_tries: int = Field(default=3, ge=1)
    platform_stream_url: str | None = None
    # Entries the stream keeps, trimmed approximately (``MAXLEN ~``): consumers that fall further
    # behind than this lose the oldest.
    platform_stream_maxlen: int = Field(default=1_000_000, ge=1)
    # Attempts before a delivery that never got through is marked failed and kept as a dead
    # letter. With the waits doubling from ``delivery_retry_seconds`` up to an hour, the default
    # eight attempts span about four hours.
    delivery_max_attempts: int = Field(default=8, ge=1)

    # Legal notices go out by e-mail. Without an SMTP host they are written as .eml files to a
    # sandbox directory (the embedded default); in production point these at the mail relay.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    notice_sender: str = "legal-notices@bulkguard.invalid"
    mail_sandbox: Path | None = None

    # Retries of a task that failed for a transient reason (broker or database unreachable),
    # with capped, jittered backoff; then its input is kept as a dead letter. Six retries ride out
    # about a minute on average.
    task_max_retries: int = Field(default=6, ge=0)

    # Outbox rows older than this that are still unpublished are re-published by beat.
    outbox_grace_seconds: int = Field(default=30, ge=1)
    # A follow-up published this long ago whose consumer has not committed its effect is
    # published again (the broker may have lost it); each further attempt waits twice as long,
    # and after ``outbox_max_publications`` it is kept as a dead letter for an operator. Longer
    # than a message may wait in a busy queue: an early re-publication costs a duplicate run.
    outbox_redeliver_seconds: int = Field(default=900, ge=1)
    outbox_max_publications: int = Field(default=5, ge=1)
    # Deliveries recorded but not confirmed this long after their last attempt are sent again.
    delivery_retry_seconds: int = Field(default=120, ge=1)

    # The metrics exporter's basic-auth credentials: it refuses to start without both.
    metrics_user: str | None = None
    metrics_password: SecretStr | None = None

    # Worker logs as plain lines ("text") or one JSON object per line ("json": infra.json_logs),
    # and the key of the hash that JSON lines show in place of an account id: set a secret of
    # the deployment's, so that only who holds it can tell which hash is which account.
    log_format: Literal["text", "json"] = "text"
    log_hash_key: SecretStr = SecretStr("bulkguard-log-ref")
    # The key the logs were hashed under before the last rotation (SECURITY.md, "Keys"): kept
    # while logs written under it are, so that ``bulkguard log-ref`` still finds an account there.
    log_hash_previous_key: SecretStr | None = None

    # The key of the hash ``accounts`` keeps in place of a phone number (infra.number_hash), and
    # while it is rotated (``bulkguard keys rotate-data-hash``, SECURITY.md "Keys") the previous
    # one, which lookups try after it. Not the log key: a leak of one must not expose the other.
    # The same on every worker and on whoever runs the migrations.
    data_hash_key: SecretStr = SecretStr("bulkguard-data-ref")
    data_hash_previous_key: SecretStr | None = None

    # Where each worker keeps its liveness and readiness files (workers.health); unset, none.
    health_dir: Path | None = None

    # Flower (``bulkguard flower``): refuses to start without both credentials; listens on
    # loopback unless told otherwise (compose sets 0.0.0.0 inside the container and publishes
    # the port on the host's loopback only); keeps its state under the data directory.
    flower_user: str | None = None
    flower_password: SecretStr | None = None
    flower_address: str = "127.0.0.1"
    flower_port: int = Field(default=5555, ge=0, le=65535)
    # Tasks Flower keeps in memory and in its state file; the oldest are dropped first.
    flower_max_tasks: int = Field(default=10_000, ge=1)

    # The console (``bulkguard console serve``): people's pages, on loopback unless told
    # otherwise. Sessions are signed with ``console_secret``; unset, one is made and kept under
    # the data directory (fine for one host; a deployment with several sets its own).
    console_secret: SecretStr | None = None
    console_address: str = "127.0.0.1"
    console_port: int = Field(default=8400, ge=0, le=65535)
    # A session ends after this long without a request, and this long after login whatever.
    console_idle_minutes: int = Field(default=30, ge=1)
    console_session_hours: int = Field(default=12, ge=1)
    # Failed logins before a user name, or an address, must wait ``console_lockout_minutes``.
    console_failures_per_user: int = Field(default=5, ge=1)
    console_failures_per_address: int = Field(default=20, ge=1)
    console_lockout_minutes: int = Field(default=15, ge=1)
    # How long a reviewer holds a review case they claimed before others may take it.
    console_claim_minutes: int = Field(default=15, ge=1)
    # Where the overview links to Flower; unset, Flower's own address and port.
    console_flower_url: str | None = None

    # The reverse proxies (addresses or networks, comma-separated) in front of the console and
    # the api, e.g. "10.0.0.5" or "10.0.0.0/24". From these alone, X-Forwarded-For names the
    # client (the address the login and api throttles count) and X-Forwarded-Proto the scheme
    # (https: the console's cookies are Secure). Empty: no proxy is trusted, those headers are
    # ignored and the connecting address is the client. Never "*": a client could then name any
    # address and escape its throttle.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()

    # The HTTP api for upstream services (``bulkguard api serve``, docs/api.md), on loopback
    # unless told otherwise: a load balancer in front terminates TLS.
    api_address: str = "127.0.0.1"
    api_port: int = Field(default=8500, ge=0, le=65535)
    # A body larger than this is refused (413) before any of it is parsed.
    api_max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    # Nesting deeper than this is refused (400): no record of the contract nests past 4.
    api_max_depth: int = Field(default=32, ge=4, le=256)
    # Seconds a client may take to send its headers, and then its body (slow clients hold a
    # connection each, and the server has a bounded number).
    api_header_timeout_seconds: float = Field(default=10.0, gt=0)
    api_body_timeout_seconds: float = Field(default=30.0, gt=0)
    # How long an idle kept-alive connection stays open: longer than the idle timeout of the
    # load balancer or client pool in front (60 s is common), or the server closes a connection
    # just as the client sends on it, and the client sees a reset it cannot safely retry.
    api_keep_alive_seconds: int = Field(default=75, ge=1)
    # Scoring work is refused (429) while the scoring queue's oldest message has waited longer
    # than this, or more messages than this wait in it: the fleet is not keeping up.
    api_max_queue_age_seconds: float = Field(default=120.0, gt=0)
    api_max_queue_depth: int = Field(default=10_000, ge=1)
    # Each client's token bucket: requests per second sustained, and the burst above it.
    api_client_rate: float = Field(default=50.0, gt=0)
    api_client_burst: int = Field(default=200, ge=1)
    # How long an Idempotency-Key's first answer is kept.
    api_idempotency_hours: int = Field(default=24, ge=1)

    @field_validator(
        "policy_file",
        "health_dir",
        "log_hash_previous_key",
        "data_hash_previous_key",
        mode="before",
    )
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        # Compose passes an unset variable as an empty string: that means "the default".
        return None if value == "" else value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"BULKGUARD_TRUSTED_PROXIES: {entry!r} is not an address or a network "
                    "(e.g. 10.0.0.5 or 10.0.0.0/24); name the proxies, never every address"
                ) from None
        return tuple(entries)

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or self.redis_url

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'bulkguard.sqlite3').resolve()}"

    @property
    def flower_state_path(self) -> Path:
        return self.data_dir / "flower" / "state"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def platform_sink_path(self) -> Path:
        """The JSONL file enforcement actions go to: meaningful only while ``platform_sink`` is
        unset (the default under the data directory) or names a file."""
        if self.platform_sink:
            return Path(self.platform_sink)
        return self.data_dir / "outbound" / "platform-actions.jsonl"

    @property
    def console_secret_path(self) -> Path:
        return self.data_dir / "console" / "secret"

    @property
    def mail_sandbox_path(self) -> Path:
        return self.mail_sandbox or self.data_dir / "outbound" / "mail"


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs, as platforms hand them out."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
