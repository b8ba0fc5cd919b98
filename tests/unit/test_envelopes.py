"""The Redis transport's check of what it pops, called directly: real envelopes pass, anything
else is named, and no bytes make it raise."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.envelopes import problem

ENVELOPE = {
    "body": json.dumps([[], {"notice_id": 4}, {"callbacks": None}]),
    "content-encoding": "utf-8",
    "content-type": "application/json",
    "headers": {"lang": "py", "task": "legal.send", "id": "0b0c"},
    "properties": {
        "correlation_id": "0b0c",
        "reply_to": "r",
        "delivery_mode": 2,
        "delivery_info": {"exchange": "bulkguard", "routing_key": "legal"},
        "priority": 0,
        "body_encoding": None,
        "delivery_tag": "6e1d",
    },
}


def test_envelopes_as_celery_clients_send_them_pass() -> None:
    assert problem(json.dumps(ENVELOPE)) is None
    encoded = {
        **ENVELOPE,
        "body": base64.b64encode(ENVELOPE["body"].encode()).decode(),  # type: ignore[attr-defined]
        "properties": {**ENVELOPE["properties"], "body_encoding": "base64"},  # type: ignore[dict-item]
    }
    assert problem(json.dumps(encoded).encode()) is None


def test_a_bytes_body_as_kombu_tags_it_passes() -> None:
    # A client whose serializer gives bytes (and any raw publish) sends its body so.
    tagged = {**ENVELOPE, "body": {"__type__": "bytes", "__value__": ENVELOPE["body"]}}
    assert problem(json.dumps(tagged)) is None


def test_tagged_values_kombu_cannot_decode_are_named() -> None:
    # kombu's JSON decodes tagged objects anywhere in the envelope, and raises on a bad one.
    for tag in ("base64", "datetime", "uuid", "decimal"):
        bad = {"__type__": tag, "__value__": "a"}
        for raw in (
            json.dumps({**ENVELOPE, "body": bad}),
            json.dumps({**ENVELOPE, "headers": {"task": "legal.send", "x": bad}}),
        ):
            found = problem(raw)
            assert found is not None, raw
            assert found.startswith("not JSON ("), found


def test_each_shape_kombu_trips_on_is_named() -> None:
    props = ENVELOPE["properties"]
    cases = {
        b"nope": "not JSON",
        b"null": "a JSON NoneType",
        b"{}": "no properties object",
        json.dumps({"properties": {}}).encode(): "no delivery tag",
        json.dumps({**ENVELOPE, "headers": "x"}).encode(): "headers are not an object",
        json.dumps({**ENVELOPE, "body": ["x"]}).encode(): "a list body",
        json.dumps(
            {**ENVELOPE, "properties": {**props, "delivery_info": 3}}  # type: ignore[dict-item]
        ).encode(): "no delivery_info with an exchange and a routing key",
        json.dumps(
            {**ENVELOPE, "properties": {**props, "body_encoding": "gzip"}}  # type: ignore[dict-item]
        ).encode(): "unknown body encoding 'gzip'",
        json.dumps(
            {**ENVELOPE, "body": "é!", "properties": {**props, "body_encoding": "base64"}}  # type: ignore[dict-item]
        ).encode(): "not base64",
    }
    for raw, why in cases.items():
        found = problem(raw)
        assert found is not None
        assert why in found, (raw, found)


@settings(max_examples=500)
@given(st.binary(max_size=512))
def test_no_bytes_make_the_check_raise(raw: bytes) -> None:
    assert problem(raw) is None or isinstance(problem(raw), str)


@settings(max_examples=300)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_no_json_value_makes_the_check_raise(value: object) -> None:
    found = problem(json.dumps(value))
    assert found is None or isinstance(found, str)


def test_what_only_kombus_decoder_reads_gets_its_verdict() -> None:
    # The check decodes with orjson and hands what orjson refuses (NaN, integers over 64 bits,
    # invalid UTF-8, which kombu replaces) and any typed value to kombu's decoder: the verdict
    # is always the one the channel would reach.
    headers = ENVELOPE["headers"]
    accepted: list[str | bytes] = [
        json.dumps({**ENVELOPE, "headers": {**headers, "x": float("nan")}}),  # type: ignore[dict-item]
        json.dumps({**ENVELOPE, "headers": {**headers, "x": 2**70}}),  # type: ignore[dict-item]
        json.dumps({**ENVELOPE, "headers": {**headers, "x": "\udcff"}}),  # type: ignore[dict-item]
        json.dumps(ENVELOPE).encode().replace(b"legal.send", b"legal.\xff"),
        json.dumps(
            {**ENVELOPE, "headers": {**headers, "x": {"__type__": "bytes", "__value__": "ab"}}}  # type: ignore[dict-item]
        ),
    ]
    for raw in accepted:
        assert problem(raw) is None, raw
    refused = json.dumps({**ENVELOPE, "properties": [{"__type__": "nope", "__value__": 1}]})
    found = problem(refused)
    assert found is not None
    assert found.startswith("not JSON (ValueError: ('Unsupported type'"), found


@settings(max_examples=300)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(["__type__", "__value__", "a"]), inner, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_the_verdict_is_the_one_kombus_decoder_gives(value: object) -> None:
    from kombu.utils import json as kombu_json

    raw = json.dumps({**ENVELOPE, "headers": {"task": "legal.send", "x": value}})
    try:
        kombu_json.loads(raw)
    except Exception:
        kombu_reads = False
    else:
        kombu_reads = True
    found = problem(raw)
    assert (found is None or not found.startswith("not JSON")) == kombu_reads, (raw, found)
