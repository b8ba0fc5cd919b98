"""Feature rows: what each signal becomes, and that training sees what serving computes."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

from infra.db.models import utcnow
from tasks.accounts.signals import DetectionPoint, validate_records
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.neighbourhoods.rules import NEIGHBOUR_FEATURES
from tasks.offline.dataset import build_dataset
from tasks.scoring.features import FEATURES, SIGNAL_FEATURES, feature_matrix, signal_matrix
from tasks.scoring.inference import score_records
from tasks.scoring.model import Scorer
from tests.records import T0, feedback_block, messaging_block, parse, record, simulated_at

MESSAGING_FEATURES = (
    "peak_msgs_15s",
    "msgs_last_hour",
    "msgs_last_day",
    "minutes_to_first_burst",
    "unique_recipients_day",
    "non_contact_ratio",
    "reply_ratio",
    "typing_ratio",
    "groups_created_day",
    "group_members_added_day",
    "send_interval_cv",
    "identical_content_ratio",
)
FEEDBACK_FEATURES = ("recipients_reached", "blocks", "reports", "block_rate", "report_rate")


def row_of(raw: dict[str, Any], stage: DetectionPoint) -> dict[str, float]:
    (rec,) = parse([raw], stage)
    (values,) = signal_matrix([rec], stage)
    assert len(values) == len(SIGNAL_FEATURES)
    return dict(zip(SIGNAL_FEATURES, values.tolist(), strict=True))


def test_feature_names_are_unique_and_complete() -> None:
    assert len(set(FEATURES)) == len(FEATURES)
    assert FEATURES == SIGNAL_FEATURES + NEIGHBOUR_FEATURES
    assert set(MESSAGING_FEATURES) | set(FEEDBACK_FEATURES) <= set(SIGNAL_FEATURES)


def test_feature_matrix_has_one_full_row_per_record() -> None:
    recs = parse(
        [record("a", messaging=messaging_block()), record("b", messaging=messaging_block())],
        DetectionPoint.MESSAGING,
    )
    matrix = feature_matrix(recs, DetectionPoint.MESSAGING, MemoryNeighbourStore())
    assert matrix.shape == (2, len(FEATURES))
    assert matrix.dtype == np.float32


def test_registration_row_has_nan_for_missing_blocks() -> None:
    row = row_of(record("r"), DetectionPoint.REGISTRATION)
    assert row["stage"] == 0.0
    for name in MESSAGING_FEATURES + FEEDBACK_FEATURES:
        assert math.isnan(row[name]), name
    assert not any(
        math.isnan(row[n])
        for n in SIGNAL_FEATURES
        if n not in MESSAGING_FEATURES + FEEDBACK_FEATURES
    )


def test_messaging_row_copies_the_messaging_signals() -> None:
    msg = messaging_block(
        peak_msgs_15s=100,
        msgs_last_hour=120,
        msgs_last_day=130,
        minutes_to_first_burst=5.0,
        unique_recipients_day=90,
        non_contact_ratio=0.9,
        reply_ratio=0.05,
        typing_ratio=0.0,
        groups_created_day=3,
        group_members_added_day=250,
        send_interval_cv=0.05,
        identical_content_ratio=0.5,
    )
    row = row_of(record("m", messaging=msg), DetectionPoint.MESSAGING)
    assert row["stage"] == 1.0
    # Rows are float32, as the model reads them.
    assert [row[n] for n in MESSAGING_FEATURES] == pytest.approx(
        [
            100.0,
            120.0,
            130.0,
            5.0,
            90.0,
            0.9,
            0.05,
            0.0,
            3.0,
            250.0,
            0.05,
            0.5,
        ],
        rel=1e-6,
    )
    for name in FEEDBACK_FEATURES:
        assert math.isnan(row[name])


def test_no_burst_yet_is_missing_not_zero() -> None:
    row = row_of(
        record("m", messaging=messaging_block(minutes_to_first_burst=None)),
        DetectionPoint.MESSAGING,
    )
    assert math.isnan(row["minutes_to_first_burst"])
    row = row_of(
        record("m", messaging=messaging_block(minutes_to_first_burst=0.0)), DetectionPoint.MESSAGING
    )
    assert row["minutes_to_first_burst"] == 0.0


def test_feedback_rates() -> None:
    raw = record(
        "f",
        messaging=messaging_block(),
        feedback=feedback_block(recipients_reached=200, blocks=10, reports=4),
    )
    row = row_of(raw, DetectionPoint.FEEDBACK)
    assert row["stage"] == 2.0
    assert (row["recipients_reached"], row["blocks"], row["reports"]) == (200.0, 10.0, 4.0)
    assert row["block_rate"] == pytest.approx(0.05)
    assert row["report_rate"] == pytest.approx(0.02)


def test_feedback_rates_without_recipients_do_not_divide_by_zero() -> None:
    raw = record("f", feedback=feedback_block(recipients_reached=0, blocks=0, reports=0))
    row = row_of(raw, DetectionPoint.FEEDBACK)
    assert (row["block_rate"], row["report_rate"]) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("phone", "ip_country", "mismatch"),
    [
        ("+421905123456", "SK", 0.0),
        ("+421905123456", "GB", 1.0),
        ("+445612345678", "GB", 0.0),
        ("+445612345678", "NL", 1.0),
        ("+4219051", "NL", 1.0),  # invalid, but its calling code still names one country
        # Too short for the +44 plan, which GB, GG, IM and JE share: no country, no mismatch.
        ("+44770090012", "NL", 0.0),
    ],
)
def test_ip_country_mismatch(phone: str, ip_country: str, mismatch: float) -> None:
    assert (
        row_of(record("p", phone=phone, ip_country=ip_country), DetectionPoint.REGISTRATION)[
            "ip_country_mismatch"
        ]
        == mismatch
    )


@pytest.mark.parametrize(
    ("phone", "voip", "fixed", "unusual"),
    [
        ("+421905123456", 0.0, 0.0, 0.0),  # mobile
        ("+445612345678", 1.0, 0.0, 0.0),  # VoIP
        ("+442079460958", 0.0, 1.0, 0.0),  # London fixed line
        ("+18002345678", 0.0, 0.0, 1.0),  # toll free
        ("+14155552671", 0.0, 0.0, 0.0),  # fixed or mobile is usual
        ("+4219051", 0.0, 0.0, 1.0),  # invalid
    ],
)
def test_number_type_flags(phone: str, voip: float, fixed: float, unusual: float) -> None:
    row = row_of(record("p", phone=phone), DetectionPoint.REGISTRATION)
    assert (row["number_voip"], row["number_fixed_line"], row["number_unusual"]) == (
        voip,
        fixed,
        unusual,
    )


@pytest.mark.parametrize(
    ("client", "flags"),
    [
        ("official", (0.0, 0.0, 0.0)),
        ("modified", (1.0, 0.0, 0.0)),
        ("web", (0.0, 1.0, 0.0)),
        ("business", (0.0, 0.0, 1.0)),
    ],
)
def test_client_flags(client: str, flags: tuple[float, float, float]) -> None:
    row = row_of(record("c", client=client), DetectionPoint.REGISTRATION)
    assert (row["client_modified"], row["client_web"], row["client_business"]) == flags


def test_account_age_in_hours_never_negative() -> None:
    row = row_of(
        record("a", observed_at=T0 + dt.timedelta(minutes=90)), DetectionPoint.REGISTRATION
    )
    assert row["account_age_hours"] == pytest.approx(1.5)
    # Clocks of the stamping services may disagree by a few minutes.
    row = row_of(record("a", observed_at=T0 - dt.timedelta(minutes=5)), DetectionPoint.REGISTRATION)
    assert row["account_age_hours"] == 0.0


def test_an_account_counts_in_its_own_neighbourhood() -> None:
    recs = parse([record("solo")], DetectionPoint.REGISTRATION)
    matrix = feature_matrix(recs, DetectionPoint.REGISTRATION, MemoryNeighbourStore())
    neighbours = dict(zip(FEATURES, matrix[0].tolist(), strict=True))
    assert neighbours["network_regs_1h"] == 1.0
    assert neighbours["device_regs_1h"] == 1.0
    assert neighbours["block_ban_rate"] == 0.0


def test_scored_batch_uses_the_training_rows(scorer: Scorer) -> None:
    raw = simulated_at(DetectionPoint.MESSAGING, 300, seed=13)
    data = build_dataset(raw, seed=13)
    valid, _, rejected = validate_records(DetectionPoint.MESSAGING, raw, now=utcnow())
    assert rejected == []
    batch = score_records(
        DetectionPoint.MESSAGING, valid, scorer, None, MemoryNeighbourStore(), explain=True
    )
    np.testing.assert_array_equal(batch.acting.scores, scorer.predict(data.features))
    assert batch.acting.decisions == scorer.decide(
        DetectionPoint.MESSAGING, scorer.predict(data.features)
    )
    # Reasons quote the feature values of the training row.
    for index, reasons in batch.acting.reasons.items():
        for reason in reasons:
            value = data.features[index, FEATURES.index(reason["feature"])]
            expected = None if np.isnan(value) else round(float(value), 4)
            assert reason["value"] == expected
