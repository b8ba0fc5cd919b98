"""Raw items a buggy or hostile producer can push onto a Redis queue with ``LPUSH``, each of which
once stopped the worker that popped it ("Unrecoverable error") and was lost; each now becomes one
dead letter (``workers.envelopes``). The tests of bad input and the ``poison`` fault trial push
them, with what each one's dead letter must say."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import amqp

from workers.harness.chaos.plain_client import task_headers

# Properties that route an envelope, as kombu writes them.
ROUTED = {"delivery_tag": "t", "delivery_info": {"exchange": "bulkguard", "routing_key": "legal"}}


def _envelope(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


POISON: list[tuple[bytes, str]] = [
    (b"this is not json at all", "not JSON"),
    (b"[1,2,3]", "a JSON list where a message envelope"),
    (b'"just a string"', "a JSON str where"),
    (b"{}", "no properties object"),
    (_envelope(properties={}), "no delivery tag"),
    (_envelope(properties={"delivery_tag": "t"}), "no delivery_info with an exchange"),
    (_envelope(body="x", properties={**ROUTED, "body_encoding": "rot13"}), "unknown body encoding"),
    (
        _envelope(
            body="%%%not base64%%%", headers={}, properties={**ROUTED, "body_encoding": "base64"}
        ),
        "not base64",
    ),
    (_envelope(body=12, properties=ROUTED), "a int body"),
    (_envelope(headers=[], properties=ROUTED), "headers are not an object"),
    (b"\xff\xfe\x00garbage", "not JSON"),
    # kombu's JSON decodes tagged values wherever they stand, and raises on a bad one.
    (
        _envelope(body={"__type__": "base64", "__value__": "a"}, properties=ROUTED),
        "not JSON (",
    ),
    (
        _envelope(headers={"eta": {"__type__": "datetime", "__value__": "x"}}, properties=ROUTED),
        "not JSON (",
    ),
]


# -- RabbitMQ: messages published raw, with properties and headers of a client's own making.

# A body Celery's protocol 2 reads: no positional arguments, no keyword arguments, no callbacks.
GOOD_BODY = b'[[], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]'
# The task the raw messages claim to be: the legal queue's, which takes no arguments.
TASK = "legal.escalate"


@dataclass(frozen=True)
class RawMessage:
    """What an AMQP client may publish: any body, content type, encoding and headers, and what
    the dead letter's reason must say about it."""

    body: bytes
    headers: dict[str, Any]
    why: str
    content_type: str | None = "application/json"
    content_encoding: str | None = "utf-8"

    def published(self, channel: Any, exchange: str, routing_key: str) -> None:
        """Publish as it is through a py-amqp channel: nothing added, nothing encoded."""
        properties: dict[str, Any] = {"application_headers": self.headers, "delivery_mode": 2}
        if self.content_type is not None:
            properties["content_type"] = self.content_type
        if self.content_encoding is not None:
            properties["content_encoding"] = self.content_encoding
        channel.basic_publish(
            amqp.Message(self.body, **properties), exchange=exchange, routing_key=routing_key
        )


def publish_raw(broker_url: str, messages: Sequence[RawMessage], queue: str) -> None:
    """Publish each message as it is to ``queue`` through a plain AMQP client (not Celery, not
    kombu's producer): only the broker stands between these bytes and the worker.

    Each publish waits for the broker's confirm, as the platform's own producers do
    (``confirm_publish``): without it, the last messages before the connection closes may never
    reach a quorum queue, and on a loaded machine up to a few per connection did not."""
    url = urlsplit(broker_url)
    with amqp.Connection(
        f"{url.hostname}:{url.port or 5672}",
        userid=unquote(url.username or "guest"),
        password=unquote(url.password or "guest"),
        virtual_host=unquote(url.path[1:]) or "/",
        confirm_publish=True,
    ) as connection:
        channel = connection.channel()
        for message in messages:
            message.published(channel, "bulkguard", queue)


def _headers(**changes: Any) -> dict[str, Any]:
    """Celery's headers for :data:`TASK` with ``changes`` (a value of None removes a header)."""
    headers = task_headers(TASK)
    for key, value in changes.items():
        if value is None:
            headers.pop(key, None)
        else:
            headers[key] = value
    return headers


def raw_messages() -> list[RawMessage]:
    """The crafted table; each call gives new task ids, so that no two items (nor two runs) are
    the same message."""
    gzip_claim = {"compression": "application/x-gzip"}
    return [
        RawMessage(b"this is not json at all", _headers(), "undecodable"),
        RawMessage(b"\xff\xfe\x00garbage", _headers(), "undecodable"),
        RawMessage(b"", _headers(), "a body that is a str"),
        RawMessage(b"[1,2,3]", _headers(), "positional arguments that are a int"),
        RawMessage(b'"just a string"', _headers(), "a body that is a str"),
        RawMessage(b"{}", _headers(), "a body that is a dict"),
        RawMessage(b"null", _headers(), "a body that is missing"),
        RawMessage(b"7", _headers(), "a body that is a int"),
        RawMessage(GOOD_BODY, {}, "not a task message"),
        RawMessage(GOOD_BODY + b" ", _headers(task=None), "not a task message"),
        RawMessage(GOOD_BODY, _headers(task=5), "a task header that is a int"),
        RawMessage(GOOD_BODY, _headers(task=[TASK]), "a task header that is a list"),
        RawMessage(GOOD_BODY, _headers(task={"name": TASK}), "a task header that is a dict"),
        RawMessage(GOOD_BODY + b"  ", _headers(id=None), "an id header that is missing"),
        RawMessage(GOOD_BODY, _headers(id=12), "an id header that is a int"),
        RawMessage(GOOD_BODY, _headers(eta="not a date"), "invalid ETA value"),
        RawMessage(GOOD_BODY, _headers(expires="yesterday"), "invalid expires value"),
        RawMessage(GOOD_BODY, _headers(timelimit="abc"), "a timelimit header"),
        RawMessage(GOOD_BODY, _headers(retries="many"), "a retries header"),
        RawMessage(
            GOOD_BODY, _headers(), "untrusted content", content_type="application/x-unknown"
        ),
        RawMessage(GOOD_BODY, _headers(), "no content type", content_type=None),
        RawMessage(GOOD_BODY, _headers(), "untrusted content", content_type="application/x-yaml"),
        RawMessage(
            b"\x80\x04K\x01.", _headers(), "untrusted content", "application/x-python-serialize"
        ),
        RawMessage(b"\x93\x90\x80\x80", _headers(), "undecodable"),  # msgpack declared JSON
        RawMessage(GOOD_BODY, _headers(), "content encoding", content_encoding="no-such-codec"),
        RawMessage(GOOD_BODY, _headers(), "content encoding", content_encoding="base64"),
        RawMessage(GOOD_BODY, _headers(), "content encoding", content_encoding="utf-16"),
        RawMessage(GOOD_BODY, _headers(**gzip_claim), "undecodable"),
        RawMessage(GOOD_BODY, _headers(compression="no-such-compression"), "undecodable"),
        RawMessage(GOOD_BODY, _headers(x_padding="x" * 60_000), "headers of"),
        RawMessage(GOOD_BODY, _headers(task="legal." + "x" * 60_000), "headers of"),
    ]


def kept_apart(messages: Sequence[RawMessage], salt: int) -> list[RawMessage]:
    """``messages`` with leading blanks that differ by ``salt``: dead letters of equal bytes
    without a task id are kept once, and blanks change no decoder's verdict on what is not a
    message (an empty body becomes blank text, still not one)."""
    blanks = b" " * (salt % 97) + b"\n" * (salt // 97 % 97)
    return [replace(m, body=blanks + m.body) for m in messages]


def fuzz_messages(count: int, rng: random.Random) -> list[RawMessage]:
    """Random bytes under random headers and properties: no body of them is a message, whatever
    the headers say, so each must become one dead letter."""
    values: list[Any] = [
        None,
        0,
        -1,
        2**40,
        1.5,
        True,
        "",
        "x",
        "legal.send",
        [],
        [1],
        {},
        {"a": 1},
    ]
    values += [b"\x00\xff", dt.datetime(2019, 12, 7, tzinfo=dt.UTC), decimal.Decimal("1.5")]
    keys = ["task", "id", "eta", "expires", "retries", "timelimit", "root_id", "argsrepr", "lang"]
    types = ["application/json", None, "text/plain", "application/x-msgpack", "\u00e9"]
    encodings = ["utf-8", None, "binary", "latin-1", "utf-16", "nope"]
    made = []
    for _ in range(count):
        headers = _headers()
        for key in rng.sample(keys, rng.randrange(len(keys))):
            headers[key] = rng.choice(values)
        # 16 bytes or more and a first byte no JSON value starts with: never a message.
        body = b"\x01" + rng.randbytes(rng.randrange(15, 400))
        made.append(RawMessage(body, headers, "", rng.choice(types), rng.choice(encodings)))
    return made
