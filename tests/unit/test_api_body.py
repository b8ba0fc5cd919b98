"""The api's pure rules: how deep JSON nests, which bodies are refused whole and why, and when
the scoring queue's backlog turns work away."""

from __future__ import annotations

import pytest

from workers.api.body import depth, parse
from workers.api.errors import ApiError
from workers.api.idempotency import checked_key, fingerprint
from workers.api.limits import Backlog, Backpressure


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b"[[[[]]]]", 4),
        (b'{"a": 1, "b": {"c": 2}}', 2),
        (b'{"a": "[[[{{{", "b": ["\\"]]]"]}', 2),  # brackets inside strings do not count
        (b'[{"a": "\\u005b"}, [[]]]', 3),
    ],
)
def test_depth(raw: bytes, expected: int) -> None:
    assert depth(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"  ", "empty"),
        (b"{", "not valid JSON"),
        (b'{"x": NaN}', "not valid JSON"),
        (b'{"x": Infinity}', "not valid JSON"),
        (b'{"x": "\\ud800"}', "not valid JSON"),
        (b'{"x": "\xff"}', "not valid JSON"),
        (b"[" * 40 + b"]" * 40, "deeper than 32"),
        (b"[" * 5000 + b"]" * 5000, "not valid JSON"),  # past the decoder's own limit
    ],
)
def test_bodies_refused_whole(raw: bytes, reason: str) -> None:
    with pytest.raises(ApiError, match=reason) as refused:
        parse(raw, 32)
    assert refused.value.status == 400


def test_a_body_within_limits_is_decoded() -> None:
    assert parse(b'{"accounts": [{"a": "\\u0000"}]}', 32) == {"accounts": [{"a": "\x00"}]}


@pytest.mark.parametrize("key", ["", "x" * 201, "caf\u00e9", "tab\there"])
def test_idempotency_keys_are_short_printable_ascii(key: str) -> None:
    with pytest.raises(ApiError, match="Idempotency-Key"):
        checked_key(key)


def test_a_fingerprint_tells_requests_apart() -> None:
    one = fingerprint("POST", "/v1/scoring/registration", b"{}")
    assert one == fingerprint("POST", "/v1/scoring/registration", b"{}")
    assert one != fingerprint("POST", "/v1/scoring/messaging", b"{}")
    assert one != fingerprint("POST", "/v1/scoring/registration", b"[]")


def _backpressure(backlog: Backlog) -> Backpressure:
    return Backpressure(lambda: backlog, max_age_seconds=60, max_depth=100)


@pytest.mark.parametrize(
    ("backlog", "refused"),
    [
        (Backlog(0, 0.0), False),
        (Backlog(100, 60.0), False),
        (Backlog(101, 0.0), True),
        (Backlog(5, 61.0), True),
        (Backlog(0, None), False),  # RabbitMQ: the age cannot be read, the depth still counts
    ],
)
def test_backpressure(backlog: Backlog, refused: bool) -> None:
    if not refused:
        _backpressure(backlog).check()
        return
    with pytest.raises(ApiError, match="scoring queue is behind") as raised:
        _backpressure(backlog).check()
    assert raised.value.status == 429
    assert raised.value.headers["Retry-After"] == "15"


def test_an_unreadable_queue_refuses_nothing() -> None:
    def broker_down() -> Backlog:
        raise ConnectionError("broker unreachable")

    Backpressure(broker_down, max_age_seconds=60, max_depth=1).check()


def test_depth_of_escapes() -> None:
    assert depth(b'["\\\\", [["\\"]"]]]') == 3
    assert depth(b'{"k\\"[": ["\\\\\\"{"]}') == 2
