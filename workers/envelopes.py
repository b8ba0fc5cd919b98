"""The Redis transport's boundary: an item popped off a queue that is not a kombu envelope is kept
as a dead letter and skipped, never raised into the worker.

kombu's Redis channel decodes each popped item with ``json.loads`` and builds its message from
``properties``, ``delivery_tag`` and ``body_encoding`` without a check: ``LPUSH legal 'not json'``,
a JSON array, an envelope without properties or one whose base64 body is not base64 raises in the
worker's consumer loop, which Celery treats as unrecoverable (the worker exits) — and the item,
already popped and not yet in the unacknowledged index, is lost. Here the client that pops checks
each item first (:func:`problem`); an item that fails is stored as a dead letter with its raw
bytes (bounded), its queue and the reason, from the worker's parent process through the
connection-less store, and the pop reads as "nothing yet", so the loop goes on. What passes is
exactly what kombu reads, and Celery's own consumer (``workers.consumer``) handles the envelopes
that are well formed but whose content is refused.
"""

from __future__ import annotations

import binascii
import functools
import logging
from collections.abc import Iterator
from typing import Any

import orjson
from kombu.transport import redis as kombu_redis
from kombu.utils import json as kombu_json
from kombu.utils.encoding import bytes_to_str

from infra import dead_letters
from workers.queues import QUEUES

log = logging.getLogger(__name__)

TASK_NAME = "broker.envelope"
KNOWN_BODY_ENCODINGS = (None, "base64")
# The keys of a value kombu's JSON decoder reads as typed (kombu.utils.json.object_hook).
_TYPED_KEYS = {"__type__", "__value__"}


def problem(item: bytes | str) -> str | None:
    """Why ``item`` cannot be delivered as a kombu message, or None when it can."""
    try:
        envelope = _decoded(item)
    except Exception as exc:
        return f"not JSON ({type(exc).__name__}: {exc})"
    if not isinstance(envelope, dict):
        return f"a JSON {type(envelope).__name__} where a message envelope (an object) belongs"
    return next(_shape_problems(envelope), None)


def _decoded(item: bytes | str) -> Any:
    """The envelope as kombu's channel decodes it, at a fraction of its cost.

    The channel uses kombu's decoder: the standard library's, which turns typed values (a body
    sent as bytes is {"__type__": "bytes", "__value__": ...}) back into what they were and
    raises on a bad one. orjson reads the same JSON four to five times faster, and accepts a
    subset of what the standard library does (no NaN, no integer over 64 bits, valid UTF-8
    only); whatever it refuses, and any envelope holding a typed value, is decoded again by
    kombu's decoder for its exact verdict. A scoring batch's envelope is some 700 KB of JSON.
    """
    try:
        envelope = orjson.loads(item)
    except orjson.JSONDecodeError:
        return kombu_json.loads(bytes_to_str(item))
    if _holds_typed_value(envelope):
        return kombu_json.loads(bytes_to_str(item))
    return envelope


def _holds_typed_value(value: Any) -> bool:
    """Whether kombu's decoder would read an object in ``value`` as a typed value. The body is
    a string: what stands in it is not looked at, as kombu does not."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.keys() == _TYPED_KEYS:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _shape_problems(envelope: dict[str, Any]) -> Iterator[str]:
    """What kombu's channel would trip on in a decoded envelope, first problem first."""
    properties = envelope.get("properties")
    if not isinstance(properties, dict):
        yield "no properties object in the envelope"
        return
    if "delivery_tag" not in properties:
        yield "no delivery tag in the envelope's properties"
    info = properties.get("delivery_info")
    # The channel files each message it hands out under its exchange and routing key.
    if not isinstance(info, dict) or not {"exchange", "routing_key"} <= info.keys():
        yield "no delivery_info with an exchange and a routing key"
    headers = envelope.get("headers")
    if headers is not None and not isinstance(headers, dict):
        yield "headers are not an object"
    body = envelope.get("body")
    if body is not None and not isinstance(body, str | bytes):
        yield f"a {type(body).__name__} body where text belongs"
        return
    encoding = properties.get("body_encoding")
    if encoding not in KNOWN_BODY_ENCODINGS:
        yield f"unknown body encoding {encoding!r}"
    elif encoding == "base64" and body:
        try:
            binascii.a2b_base64(
                body.encode("ascii") if isinstance(body, str) else body, strict_mode=True
            )
        except (binascii.Error, UnicodeEncodeError, ValueError):
            yield "a body marked base64 that is not base64"


def keep(queue: str, item: bytes | str, reason: str) -> bool:
    """Store an undeliverable item as a dead letter: True once stored; False when the store
    kept failing, said in the log (the reason only, never the item: it may hold personal data)."""
    why = f"undeliverable envelope on queue {queue!r}: {reason}"
    if not dead_letters.keep_standalone(
        TASK_NAME, None, dead_letters.Rejection(reason=why, payload=item)
    ):
        log.error("%s; NOT kept: the dead-letter store failed, put back on its queue", why)
        return False
    log.error("%s; kept as a dead letter", why)
    return True


def guarded_client(client_class: Any, sep: str) -> type[Any]:
    """``client_class`` whose queue pops skip (and keep) what is not an envelope. An item the
    dead-letter store cannot take is pushed back to the end of its list, as the pop had taken it
    out already: it comes back after the rest of the queue, until the store takes it."""

    class GuardedClient(client_class):  # type: ignore[misc]  # a class made at run time
        def parse_response(self, connection: Any, command_name: Any, **options: Any) -> Any:
            response = super().parse_response(connection, command_name, **options)
            if command_name == "BRPOP" and response:
                key, item = response
                why = problem(item)
                if why is not None:
                    if not keep(bytes_to_str(key).rsplit(sep, 1)[0], item, why):
                        # The pop's reply is read whole: the connection is free for this.
                        self.lpush(key, item)
                    return None  # read as an empty pop: the channel polls again
            return response

        def rpop(self, name: Any, count: Any = None) -> Any:
            item = super().rpop(name, count) if count is not None else super().rpop(name)
            if count is None and item:
                why = problem(item)
                if why is not None:
                    if not keep(bytes_to_str(name).rsplit(sep, 1)[0], item, why):
                        self.lpush(name, item)
                    return None
            return item

    return GuardedClient


class WorkersRestoreQoS(kombu_redis.QoS):
    """kombu hands the expired unacknowledged messages of a dead worker back to their queues
    from whichever channel polls first: a worker's, but also Flower's event receiver's or a
    remote-control client's. Here only a channel that consumes a task queue restores: the
    others' broker users may neither read the unacknowledged index nor write to the queues
    (infra/redis/users.acl), and every worker restores every few seconds anyway."""

    def restore_visible(self, *args: Any, **kwargs: Any) -> Any:
        channel: Any = self.channel  # the stubs do not declare the Redis channel's queues
        if not set(channel.active_queues) & QUEUES.keys():
            return None
        return super().restore_visible(*args, **kwargs)


class GuardedChannel(kombu_redis.Channel):
    QoS = WorkersRestoreQoS

    def _get_client(self) -> Any:
        # The stubs do not declare the channel's client factory, which kombu does have.
        made: Any = super()._get_client()  # type: ignore[misc]
        if isinstance(made, functools.partial):  # a global key prefix: a partial of a class
            guarded = guarded_client(made.func, self.sep)
            return functools.partial(guarded, *made.args, **made.keywords)  # type: ignore[misc]
        return guarded_client(made, self.sep)


class GuardedTransport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`GuardedChannel` (``broker_transport`` names it)."""

    Channel = GuardedChannel
