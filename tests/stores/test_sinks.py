"""The platform's sinks against real receivers: a webhook server on loopback that checks each
request as docs/platform-delivery.md tells the platform to, and a Redis Stream read through a
consumer group. Failures are sorted as deliveries need them: refused for good, or worth another
try."""

from __future__ import annotations

import datetime as dt
import socket
from contextlib import closing
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
import pytest
import redis
from pydantic import SecretStr
from sqlalchemy import select

from infra import deliveries
from infra.db.models import DeadLetter, Delivery
from infra.db.session import session_scope
from infra.settings import Settings
from infra.sink_contract import DeliveryDeferredError, DeliveryRefusedError
from infra.sinks import JsonlSink, RedisStreamSink, platform_sink
from infra.users import Actor
from infra.webhook import SignatureError, WebhookSink, sign, verify
from tests.platform_receiver import SECRET, Receiver

KIND = "platform_action"
ITEMS = {
    n: {
        "idempotency_key": f"action-{n}",
        "event": "ban",
        "action_id": n,
        "account_id": f"acc-{n}",
        "expires_at": None,
        "reason": "automated bulk messaging",
        "policy_version": "2019-12-07.2",
        "model_version": "m1",
    }
    for n in (1, 2, 3)
}

ONCALL = Actor.system("oncall")


def webhook(url: str, *, tries: int = 3, timeout: float = 5.0) -> WebhookSink:
    # Backoff in milliseconds: the tests exercise the retries without sitting through them.
    return WebhookSink(url, SECRET, timeout=timeout, tries=tries, backoff=0.001, longest_wait=0.05)


def record_and_send(sink: Any, max_attempts: int = 8) -> int:
    with session_scope() as session:
        recorded = deliveries.record(session, sink, KIND, ITEMS)
    return deliveries.send(sink, KIND, recorded, max_attempts=max_attempts)


def rows() -> list[Delivery]:
    with session_scope() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.ref_id)))


def dead_letters() -> list[DeadLetter]:
    with session_scope() as session:
        return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


def test_a_signed_delivery_is_accepted_and_names_no_credentials(receiver: Receiver) -> None:
    url = receiver.url.replace("http://", "http://bulkguard:pa55word@") + "?token=t0ken"
    with closing(webhook(url)) as sink:
        sink.deliver([ITEMS[1], ITEMS[2]])
        sink.deliver([ITEMS[3]])
        assert str(sink) == f"webhook:{receiver.url}"
    assert receiver.applied == ["action-1", "action-2", "action-3"]
    first = receiver.requests[0]
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-bulkguard-signature"].startswith("v1=")
    assert orjson.loads(first.body) == {"items": [ITEMS[1], ITEMS[2]]}
    # The key of the request follows from its items' keys.
    assert first.headers["idempotency-key"] != receiver.requests[1].headers["idempotency-key"]


def test_a_client_handed_in_is_used_and_left_to_its_owner(receiver: Receiver) -> None:
    with httpx.Client(headers={"User-Agent": "platform-gateway"}) as client:
        with closing(WebhookSink(receiver.url, SECRET, timeout=5, tries=1, client=client)) as sink:
            sink.deliver([ITEMS[1]])
        assert not client.is_closed
    assert receiver.requests[0].headers["user-agent"] == "platform-gateway"
    assert receiver.applied == ["action-1"]


def test_an_unavailable_receiver_is_tried_again_within_one_delivery(receiver: Receiver) -> None:
    receiver.unavailable = 2
    with closing(webhook(receiver.url, tries=3)) as sink:
        sink.deliver([ITEMS[1]])
    assert len(receiver.requests) == 3
    assert receiver.applied == ["action-1"]
    # A retry is a new request, signed again; the request's key stays.
    assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 1


def test_a_receiver_still_unavailable_after_the_last_try_defers_the_items(
    receiver: Receiver,
) -> None:
    receiver.unavailable = 10
    with (
        closing(webhook(receiver.url, tries=3)) as sink,
        pytest.raises(DeliveryDeferredError, match="after 3 tries: HTTP 503: restarting"),
    ):
        sink.deliver([ITEMS[1]])
    assert len(receiver.requests) == 3

    # A Retry-After longer than the sink waits ends the delivery at once.
    receiver.requests.clear()
    receiver.retry_after = "120"
    with (
        closing(webhook(receiver.url, tries=3)) as sink,
        pytest.raises(DeliveryDeferredError, match="asked to wait 120s"),
    ):
        sink.deliver([ITEMS[1]])
    assert len(receiver.requests) == 1
    assert receiver.applied == []


def test_a_refusal_fails_the_delivery_for_good_with_a_dead_letter(
    env: dict[str, str], receiver: Receiver
) -> None:
    receiver.refused = {"action-2"}
    with closing(webhook(receiver.url)) as sink:
        with pytest.raises(DeliveryRefusedError, match="HTTP 400: unknown accounts: action-2"):
            sink.deliver([ITEMS[2]])
        assert len(receiver.requests) == 1  # never tried again
        assert record_and_send(sink) == 2
    assert receiver.applied == ["action-1", "action-3"]
    assert [(r.status, r.attempts) for r in rows()] == [
        ("delivered", 1),
        ("failed", 1),
        ("delivered", 1),
    ]
    (letter,) = dead_letters()
    assert letter.task_name == "delivery.platform_action"
    assert letter.account_id == "acc-2"
    assert f"webhook:{receiver.url}" in letter.reason
    assert "HTTP 400: unknown accounts: action-2" in letter.reason


def test_a_captured_request_is_refused_once_its_timestamp_is_stale(receiver: Receiver) -> None:
    with closing(webhook(receiver.url)) as sink:
        sink.deliver([ITEMS[1]])
    (captured,) = receiver.requests
    headers = {k: v for k, v in captured.headers.items() if k.startswith(("x-", "content-type"))}
    with httpx.Client() as client:
        # Within the window the repeat is harmless: the receiver knows the key.
        again = client.post(receiver.url, content=captured.body, headers=headers)
        assert (again.status_code, again.json()) == (200, {"applied": 0})
        receiver.clock_offset = 301
        late = client.post(receiver.url, content=captured.body, headers=headers)
        assert late.status_code == 401
        assert "replayed or delayed" in late.text
        receiver.clock_offset = 0
        tampered = captured.body.replace(b"acc-1", b"acc-9")
        forged = client.post(receiver.url, content=tampered, headers=headers)
        assert (forged.status_code, forged.text) == (401, "signature does not match")
    assert receiver.applied == ["action-1"]


def test_verify_refuses_what_was_not_signed_with_the_secret() -> None:
    body, now = b'{"items":[]}', 1_700_000_000
    good = sign(SECRET.encode(), now, body)
    verify(SECRET, str(now), body, good, now=now + 299)
    for timestamp, signature, reason in [
        (None, good, "malformed"),
        ("17e8", good, "malformed"),
        (str(now), None, "missing"),
        (str(now), sign(b"another secret", now, body), "does not match"),
        (str(now), good.replace("v1=", "v2="), "does not match"),
        (str(now + 1), good, "does not match"),
    ]:
        with pytest.raises(SignatureError, match=reason):
            verify(SECRET, timestamp, body, signature, now=now)
    with pytest.raises(SignatureError, match="replayed or delayed"):
        verify(SECRET, str(now), body, good, now=now - 301)  # from the future


def test_a_receiver_nobody_listens_on_is_worth_another_try(env: dict[str, str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with closing(webhook(f"http://127.0.0.1:{port}/actions", tries=2)) as sink:
        with pytest.raises(DeliveryDeferredError, match="after 2 tries: ConnectError"):
            sink.deliver([ITEMS[1]])
        assert record_and_send(sink) == 0
    assert [(r.status, r.attempts) for r in rows()] == [("pending", 1)] * 3
    assert all((r.last_error or "").startswith("DeliveryDeferredError: ") for r in rows())
    assert dead_letters() == []


def test_out_of_attempts_a_delivery_fails_and_a_retry_delivers_it(
    env: dict[str, str], receiver: Receiver
) -> None:
    receiver.unavailable = 1_000
    with closing(webhook(receiver.url, tries=1)) as sink:
        assert record_and_send(sink, max_attempts=2) == 0
        with session_scope() as session:
            swept = deliveries.sweep(
                session, sink, [KIND], retry_after=dt.timedelta(0), max_attempts=2
            )
        assert swept == 0
        assert [(r.status, r.attempts) for r in rows()] == [("failed", 2)] * 3
        assert len(dead_letters()) == 3
        assert all("HTTP 503" in (r.last_error or "") for r in rows())

        receiver.unavailable = 0
        with session_scope() as session:
            requested = deliveries.request_retry(session, actor=ONCALL, kinds=[KIND])
        with session_scope() as session:
            taken = deliveries.take_retries(session, requested, sink, actor=ONCALL)
        assert taken == deliveries.Taken(requested, refused=0)
        assert deliveries.resend(sink, taken.ids, max_attempts=2) == 3
    assert receiver.applied == ["action-1", "action-2", "action-3"]
    assert [(r.status, r.attempts, r.sink) for r in rows()] == [
        ("delivered", 1, f"webhook:{receiver.url}")
    ] * 3
    assert len(dead_letters()) == 3  # the failure stays on record


def test_the_configuration_picks_the_sink(tmp_path: Path, redis_url: str) -> None:
    def configured(**values: Any) -> Settings:
        return Settings(data_dir=tmp_path, REDIS_URL=redis_url, **values)

    default = platform_sink(configured())
    assert isinstance(default, JsonlSink)
    assert default.path == tmp_path / "outbound" / "platform-actions.jsonl"
    assert platform_sink(configured()) is default  # kept while the settings stay
    other = platform_sink(configured(platform_sink=str(tmp_path / "x.jsonl")))
    assert str(other) == f"jsonl:{tmp_path / 'x.jsonl'}"

    with pytest.raises(ValueError, match="BULKGUARD_PLATFORM_WEBHOOK_SECRET is not set"):
        platform_sink(configured(platform_sink="https://platform.example/hook"))
    hook = platform_sink(
        configured(
            platform_sink="https://user:pw@platform.example/hook",
            platform_webhook_secret=SecretStr(SECRET),
        )
    )
    assert str(hook) == "webhook:https://platform.example/hook"
    with pytest.raises(ValueError, match="cannot be used") as refused:
        WebhookSink("https://user:pa55word@platform.example:port/", SECRET, timeout=1, tries=1)
    assert "pa55word" not in str(refused.value)

    stream = platform_sink(configured(platform_sink="stream:bulkguard-actions"))
    assert isinstance(stream, RedisStreamSink)
    assert str(stream) == "stream:bulkguard-actions"
    with pytest.raises(ValueError, match="needs the stream's name"):
        platform_sink(configured(platform_sink="stream:"))


def test_a_stream_is_read_once_per_key_through_a_consumer_group(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.delete("actions")
    sink = RedisStreamSink(redis.Redis.from_url(redis_url), "actions", maxlen=1_000)
    with closing(sink):
        sink.deliver([ITEMS[1], ITEMS[2]])
        sink.deliver([ITEMS[2], ITEMS[3]])  # a batch sent again after a lost confirmation
    client.xgroup_create("actions", "platform", id="0")

    applied: list[str] = []
    # redis-py types a reply as any reply a command of its kind may give.
    while read := cast("Any", client.xreadgroup("platform", "c1", {"actions": ">"}, count=2)):
        for entry_id, fields in read[0][1]:
            key = fields[b"key"].decode()
            if key not in applied:  # the platform's own record of keys applied
                applied.append(key)
                assert orjson.loads(fields[b"item"]) == ITEMS[int(key.split("-")[1])]
            client.xack("actions", "platform", entry_id)
    assert applied == ["action-1", "action-2", "action-3"]
    assert client.xpending("actions", "platform")["pending"] == 0
    client.delete("actions")
    client.close()


def test_a_stream_is_trimmed_near_its_maximum_length(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.delete("trimmed")
    with closing(RedisStreamSink(redis.Redis.from_url(redis_url), "trimmed", maxlen=250)) as sink:
        for start in range(0, 2_000, 100):
            sink.deliver([{"idempotency_key": f"action-{n}"} for n in range(start, start + 100)])
    # Never below the maximum; above it by less than one node of entries (100 by default).
    assert 250 <= client.xlen("trimmed") < 350
    newest: Any = client.xrevrange("trimmed", count=1)
    assert newest[0][1][b"key"] == b"action-1999"
    client.delete("trimmed")
    client.close()
