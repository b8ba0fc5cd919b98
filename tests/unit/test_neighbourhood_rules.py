"""The neighbourhood rules, called directly: rates, hour buckets, keys, the packed counts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tasks.accounts.signals import DetectionPoint
from tasks.neighbourhoods import redis_store
from tasks.neighbourhoods.rules import (
    hour_bucket,
    neighbourhoods,
    rates,
    registration_hours,
)
from tests.records import parse, record


@pytest.mark.parametrize(
    ("accounts", "banned", "reported", "expected"),
    [
        (0, 0, 0, (0.0, 0.0)),
        (1, 1, 1, (0.0, 0.0)),  # seen once says nothing yet
        (2, 1, 0, (0.5, 0.0)),
        (2, 2, 2, (1.0, 1.0)),
        (4, 1, 3, (0.25, 0.75)),
        (0, 2, 1, (1.0, 0.5)),  # banned accounts registered before bulkguard saw them
        (1, 3, 0, (1.0, 0.0)),
    ],
)
def test_rates(accounts: int, banned: int, reported: int, expected: tuple[float, float]) -> None:
    shares = rates(*(np.array([n], dtype=np.float64) for n in (accounts, banned, reported)))
    assert (float(shares[0][0]), float(shares[1][0])) == expected


def test_registration_hours_are_the_bucket_and_the_one_before() -> None:
    moment = dt.datetime(2020, 1, 10, 12, 59, 59, tzinfo=dt.UTC)
    bucket = hour_bucket(moment)
    assert bucket == int(dt.datetime(2020, 1, 10, 12, tzinfo=dt.UTC).timestamp()) // 3600
    assert hour_bucket(moment + dt.timedelta(seconds=1)) == bucket + 1
    (rec,) = parse([record("h", registered_at=moment)], DetectionPoint.REGISTRATION)
    assert registration_hours(rec) == (bucket - 1, bucket)


def test_neighbourhood_keys() -> None:
    (rec,) = parse(
        [record("k", phone="+421905123456", network_id="n9", device_id="d9")],
        DetectionPoint.REGISTRATION,
    )
    assert neighbourhoods(rec) == ("+421905123", "n9", "d9")


def test_counts_keys_unpack_fields_never_written_as_zero() -> None:
    counts = redis_store.unpack_counts(
        [
            None,
            b"0000000007",
            b"\0" * 10 + b"0000000003",
            "000000001200000000050000000001",
            # Two of five bans lifted on appeal; more lifts than bans never go below zero.
            "0000000012000000000500000000010000000002",
            b"\0" * 30 + b"0000000001",
            # The latest ban or report, as seconds since the epoch.
            "0000000012000000000500000000010000000000" + "1764590400",
        ]
    )
    np.testing.assert_array_equal(
        counts,
        [
            [0, 0, 0, 0],
            [7, 0, 0, 0],
            [0, 3, 0, 0],
            [12, 5, 1, 0],
            [12, 3, 1, 0],
            [0, 0, 0, 0],
            [12, 5, 1, 1764590400],
        ],
    )
