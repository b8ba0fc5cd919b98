"""Model features, derived in one place for training and serving alike.

Missing blocks (no messaging yet at registration time) become NaN, which XGBoost treats as
missing and routes down each split's learned default branch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tasks.accounts.phones import number_info
from tasks.accounts.signals import AccountSignals, DetectionPoint
from tasks.neighbourhoods.rules import NEIGHBOUR_FEATURES, NeighbourStore
from tasks.scoring.laps import Lap, no_lap

STAGE_CODES = {
    DetectionPoint.REGISTRATION: 0.0,
    DetectionPoint.MESSAGING: 1.0,
    DetectionPoint.FEEDBACK: 2.0,
}

SIGNAL_FEATURES = (
    "stage",
    "number_voip",
    "number_fixed_line",
    "number_unusual",  # toll-free, premium, shared-cost, pager, invalid...
    "ip_country_mismatch",
    "client_modified",
    "client_web",
    "client_business",
    "account_age_hours",
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
    "recipients_reached",
    "blocks",
    "reports",
    "block_rate",
    "report_rate",
)

FEATURES: tuple[str, ...] = SIGNAL_FEATURES + NEIGHBOUR_FEATURES

_USUAL_TYPES = ("mobile", "fixed_or_mobile")
_UNUSUAL_EXCEPT = (*_USUAL_TYPES, "voip", "fixed_line")
_HEAD = slice(0, 9)
_MESSAGING = slice(9, 21)
_FEEDBACK = slice(21, 26)


def signal_matrix(
    records: Sequence[AccountSignals], stage: DetectionPoint
) -> npt.NDArray[np.float32]:
    """The signal part of the feature rows, one per record, built column by column: a Python
    loop per record and feature would cost more than the model's prediction."""
    out = np.full((len(records), len(SIGNAL_FEATURES)), math.nan, dtype=np.float32)
    if not records:
        return out
    registrations = [r.registration for r in records]
    numbers = [number_info(r.phone) for r in records]
    types = np.array([n.number_type for n in numbers])
    clients = np.array([g.client for g in registrations])
    head = out[:, _HEAD]
    head[:, 0] = STAGE_CODES[stage]
    head[:, 1] = types == "voip"
    head[:, 2] = types == "fixed_line"
    head[:, 3] = ~np.isin(types, _UNUSUAL_EXCEPT)  # toll-free, premium, pager, invalid...
    head[:, 4] = [
        n.country is not None and n.country != g.ip_country
        for n, g in zip(numbers, registrations, strict=True)
    ]
    head[:, 5] = clients == "modified"
    head[:, 6] = clients == "web"
    head[:, 7] = clients == "business"
    seconds = np.array(
        [
            (r.observed_at - g.registered_at).total_seconds()
            for r, g in zip(records, registrations, strict=True)
        ]
    )
    head[:, 8] = np.maximum(seconds, 0.0) / 3600.0

    # Missing blocks (no messaging yet at registration time) stay NaN.
    messaging = [(i, r.messaging) for i, r in enumerate(records) if r.messaging is not None]
    if messaging:
        rows = [i for i, _ in messaging]
        out[rows, _MESSAGING] = [
            (
                m.peak_msgs_15s,
                m.msgs_last_hour,
                m.msgs_last_day,
                math.nan if m.minutes_to_first_burst is None else m.minutes_to_first_burst,
                m.unique_recipients_day,
                m.non_contact_ratio,
                m.reply_ratio,
                m.typing_ratio,
                m.groups_created_day,
                m.group_members_added_day,
                m.send_interval_cv,
                m.identical_content_ratio,
            )
            for _, m in messaging
        ]
    feedback = [(i, r.feedback) for i, r in enumerate(records) if r.feedback is not None]
    if feedback:
        rows = [i for i, _ in feedback]
        counts = np.array(
            [(f.recipients_reached, f.blocks, f.reports) for _, f in feedback], dtype=np.float64
        )
        reached = np.maximum(counts[:, 0], 1.0)
        out[rows, _FEEDBACK] = np.column_stack(
            [counts, counts[:, 1] / reached, counts[:, 2] / reached]
        )
    return out


def feature_matrix(
    records: Sequence[AccountSignals],
    stage: DetectionPoint,
    neighbours: NeighbourStore,
    lap: Lap = no_lap,
) -> npt.NDArray[np.float32]:
    """Observe the records in their neighbourhoods, then build one row per record.

    Observing first means an account counts in its own neighbourhood, the same way in training
    (records replayed in time order) and in serving.
    """
    around = neighbours.observe_and_lookup(records, stage)
    lap("neighbourhood_features")
    signals = signal_matrix(records, stage)
    lap("signal_features")
    return np.hstack([signals, around])
