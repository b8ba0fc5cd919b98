"""``bulkguard bench envelopes``: what the checks at the consumer boundary cost per message.

Measured in one run, on the same envelopes, against a baseline taken beside it:

* Redis: ``BRPOP`` of N envelopes off a list followed by kombu's decoding of each (what a worker's
  Redis channel does per message), once through a plain client and once through the client the
  guarded transport uses (``workers.envelopes``), which checks each popped item first. The rounds
  alternate and the best of each is kept, so that a busy machine costs both sides alike.
* Both brokers: the consumer's check of a task message's properties, headers and body shape
  (``workers.message_checks``), given the body kombu already decoded (Celery decodes it anyway,
  and kombu keeps it), per message.

Two sizes: a small internal message (one notice id) and a scoring batch of 1,000 accounts, the
largest message the workers take in volume.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis
from kombu.utils import json as kombu_json
from kombu.utils.encoding import bytes_to_str
from rich.table import Table

from tasks.offline.simulate_accounts import simulate
from workers import message_checks
from workers.envelopes import guarded_client
from workers.harness.chaos.plain_client import task_headers

EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
# kombu's Redis channel: queue names and their priority suffixes are joined with this.
SEP = "\x06\x16"


def envelope(task: str, queue: str, kwargs: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """A kombu envelope as a Celery client puts it on a Redis queue (JSON body as text), and
    its headers."""
    headers = task_headers(task)
    raw = {
        "body": json.dumps([[], kwargs, EMBED]),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            "correlation_id": headers["id"],
            "reply_to": str(uuid.uuid4()),
            "delivery_mode": 2,
            "delivery_info": {"exchange": "bulkguard", "routing_key": queue},
            "priority": 0,
            "body_encoding": None,
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return json.dumps(raw).encode(), headers


def _pop_all(client: redis.Redis, key: str, count: int) -> float:
    """Seconds to BRPOP ``count`` items off ``key`` and decode each as kombu's channel does."""
    started = time.perf_counter()
    for _ in range(count):
        popped = client.brpop([key], timeout=5)
        if popped is None:
            raise RuntimeError(f"{key} was emptied by someone else")
        kombu_json.loads(bytes_to_str(popped[1]))
    return time.perf_counter() - started


def _fill(client: redis.Redis, key: str, item: bytes, count: int) -> None:
    pipe = client.pipeline(transaction=False)
    for _ in range(count):
        pipe.lpush(key, item)
    pipe.execute()


def _redis_pops(redis_url: str, item: bytes, count: int, rounds: int) -> dict[str, float]:
    key = f"bulkguard:bench:envelopes:{uuid.uuid4().hex[:8]}"
    plain = redis.Redis.from_url(redis_url)
    guarded = guarded_client(redis.Redis, SEP).from_url(redis_url)
    best = {"plain": float("inf"), "guarded": float("inf")}
    try:
        for _ in range(rounds):
            for name, client in (("plain", plain), ("guarded", guarded)):
                _fill(plain, key, item, count)
                best[name] = min(best[name], _pop_all(client, key, count))
    finally:
        plain.delete(key)
        plain.close()
        guarded.close()
    return {
        "plain_us": best["plain"] / count * 1e6,
        "guarded_us": best["guarded"] / count * 1e6,
        "ratio": best["guarded"] / best["plain"],
    }


def _best_us(fn: Callable[[], object], count: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            fn()
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def _consumer_check_us(item: bytes, headers: dict[str, Any], count: int, rounds: int) -> float:
    body = json.loads(json.loads(item)["body"])

    def check() -> object:
        return message_checks.problem(headers, message_checks.JSON, "utf-8", lambda: body)

    assert check() is None, "the bench's envelope must pass the check"
    return _best_us(check, count, rounds)


def bench_envelopes(redis_url: str, count: int, rounds: int = 5) -> dict[str, Any]:
    records = simulate(4000, seed=11)
    batch = [r for r in records if r["stage"] == "messaging"][:1000]
    messages = {
        "legal.send (1 notice id)": envelope("legal.send", "legal", {"notice_id": 4}),
        f"scoring batch ({len(batch)} accounts)": envelope(
            "scoring.score_accounts", "scoring", {"stage": "messaging", "accounts": batch}
        ),
    }
    rows = []
    for name, (item, headers) in messages.items():
        # Large envelopes are fewer per run: the same bytes popped in all.
        n = max(20, min(count, count * 2000 // len(item)))
        pops = _redis_pops(redis_url, item, n, rounds)
        rows.append(
            {
                "message": name,
                "bytes": len(item),
                "popped": n,
                **pops,
                "consumer_check_us": _consumer_check_us(item, headers, n, rounds),
            }
        )
    return {"count": count, "rounds": rounds, "messages": rows}


def envelopes_table(result: dict[str, Any]) -> Table:
    table = Table(title="Checks at the consumer boundary, per message (best of rounds)")
    for column in ("message", "bytes", "popped", "pop + decode", "guarded", "ratio", "consumer"):
        table.add_column(column, justify="left" if column == "message" else "right")
    for row in result["messages"]:
        table.add_row(
            row["message"],
            f"{row['bytes']:,}",
            f"{row['popped']:,}",
            f"{row['plain_us']:,.1f} µs",
            f"{row['guarded_us']:,.1f} µs",
            f"{row['ratio']:.2f}x",
            f"{row['consumer_check_us']:,.1f} µs",
        )
    return table
