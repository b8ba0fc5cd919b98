"""Model features, derived in one place for training and serving alike.

Missing blocks (no messaging yet at registration time) become NaN, which XGBoost treats as
missing and routes down each split's learned default branch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tasks.scoring.neighbours import NEIGHBOUR_FEATURES, NeighbourStore
from tasks.scoring.phones import number_info
from tasks.scoring.signals import AccountSignals, Stage

STAGE_CODES = {Stage.REGISTRATION: 0.0, Stage.MESSAGING: 1.0, Stage.FEEDBACK: 2.0}

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

_USUAL_TYPES = {"mobile", "fixed_or_mobile"}
_NAN = math.nan
_NO_MESSAGING = (_NAN,) * 12
_NO_FEEDBACK = (_NAN,) * 5


def signal_row(record: AccountSignals, stage: Stage) -> tuple[float, ...]:
    """The signal part of one feature row, in the order of ``SIGNAL_FEATURES``."""
    reg = record.registration
    info = number_info(record.phone)
    number_type = info.number_type
    head = (
        STAGE_CODES[stage],
        float(number_type == "voip"),
        float(number_type == "fixed_line"),
        float(number_type not in _USUAL_TYPES and number_type not in {"voip", "fixed_line"}),
        float(info.country is not None and info.country != reg.ip_country),
        float(reg.client == "modified"),
        float(reg.client == "web"),
        float(reg.client == "business"),
        max((record.observed_at - reg.registered_at).total_seconds(), 0.0) / 3600.0,
    )
    msg = record.messaging
    messaging = (
        _NO_MESSAGING
        if msg is None
        else (
            float(msg.peak_msgs_15s),
            float(msg.msgs_last_hour),
            float(msg.msgs_last_day),
            _NAN if msg.minutes_to_first_burst is None else msg.minutes_to_first_burst,
            float(msg.unique_recipients_day),
            msg.non_contact_ratio,
            msg.reply_ratio,
            msg.typing_ratio,
            float(msg.groups_created_day),
            float(msg.group_members_added_day),
            msg.send_interval_cv,
            msg.identical_content_ratio,
        )
    )
    fb = record.feedback
    if fb is None:
        feedback = _NO_FEEDBACK
    else:
        reached = max(fb.recipients_reached, 1)
        feedback = (
            float(fb.recipients_reached),
            float(fb.blocks),
            float(fb.reports),
            fb.blocks / reached,
            fb.reports / reached,
        )
    return head + messaging + feedback


def feature_matrix(
    records: Sequence[AccountSignals], stage: Stage, neighbours: NeighbourStore
) -> npt.NDArray[np.float32]:
    """Observe the records in their neighbourhoods, then build one row per record.

    Observing first means an account counts in its own neighbourhood, the same way in training
    (records replayed in time order) and in serving.
    """
    neighbours.observe(records)
    signals = np.array([signal_row(r, stage) for r in records], dtype=np.float32).reshape(
        len(records), len(SIGNAL_FEATURES)
    )
    return np.hstack([signals, neighbours.lookup(records)])
