"""The consumer's check of a task message before Celery reads it, called directly: messages as
Celery clients send them pass; every shape Celery would trip on is named, without its values."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from workers.harness.chaos.plain_client import task_headers
from workers.message_checks import JSON, MAX_HEADER_BYTES, problem

BODY = [[], {"notice_id": 4}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]


def _check(headers: dict[str, Any], body: Any = BODY, encoding: str | None = "utf-8") -> str | None:
    return problem(headers, JSON, encoding, lambda: body)


def test_messages_as_celery_clients_send_them_pass() -> None:
    assert _check(task_headers("legal.send")) is None
    assert _check(task_headers("legal.send", timelimit=[150, 120], retries=2, shadow=None)) is None
    assert _check(task_headers("legal.send"), encoding="UTF8") is None
    assert _check(task_headers("legal.send"), body=(["a"], {}, None)) is None


def test_each_header_celery_would_trip_on_is_named_without_its_value() -> None:
    cases = {
        "task": (["legal.send"], "a task header that is a list of 1, not a task name"),
        "id": (12, "an id header that is a int, not a task id"),
        "root_id": ({"+421905777888": 1}, "a root_id header that is a dict, not text"),
        "retries": (True, "a retries header that is a bool, not a count"),
        "timelimit": ("150", "a timelimit header that is a str, not [hard, soft] seconds"),
    }
    for header, (value, why) in cases.items():
        assert _check(task_headers("legal.send", **{header: value})) == why
    headers = task_headers("legal.send")
    del headers["id"]
    assert _check(headers) == "an id header that is missing, not a task id"


def test_a_body_that_is_not_args_kwargs_embed_is_named() -> None:
    headers = task_headers("legal.send")
    assert _check(headers, body={}) == "a body that is a dict, not [args, kwargs, embed]"
    assert _check(headers, body=[1, 2, 3]) == "positional arguments that are a int, not a list"
    assert (
        _check(headers, body=[[], [], {}])
        == "keyword arguments that are a list of 0, not an object"
    )
    assert _check(headers, body=[[], {}, 5]) == "an embed part that is a int, not an object"
    assert _check(headers, body=None) == "a body that is missing, not [args, kwargs, embed]"


def test_an_encoding_other_than_utf8_and_huge_headers_are_refused() -> None:
    headers = task_headers("legal.send")
    assert _check(headers, encoding="base64") == (
        "content encoding 'base64': JSON messages are UTF-8"
    )
    assert _check(headers, encoding="latin-1") is not None
    # Other content types are Celery's to refuse (pickle is, by name).
    assert problem(headers, "application/x-python-serialize", "binary", lambda: BODY) is None
    big = task_headers("legal.send", x_padding="x" * MAX_HEADER_BYTES)
    found = _check(big)
    assert found is not None
    assert found.startswith("headers of ")
    assert found.endswith(f"over the limit of {MAX_HEADER_BYTES}")


def test_an_undecodable_body_is_left_to_celery() -> None:
    def undecodable() -> Any:
        return json.loads(b"{nope")

    assert problem(task_headers("legal.send"), JSON, "utf-8", undecodable) is None
    # Messages without a task header are Celery's "unknown message", which it reads safely.
    assert problem({}, JSON, "utf-8", undecodable) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.sampled_from(["task", "id", "eta", "retries", "timelimit", "root_id", "group", "x"]),
        json_values,
    ),
    json_values,
)
def test_no_headers_or_body_make_the_check_raise(headers: dict[str, Any], body: Any) -> None:
    found = problem(headers, JSON, "utf-8", lambda: body)
    assert found is None or isinstance(found, str)
