"""Aggregates over an account's neighbours: its number's 1,000-block, its network, its device.

Abuse comes in batches: SIM farms buy consecutive numbers, scripts register from one network,
emulators reuse a device fingerprint. The recent ban and report rates of those neighbourhoods,
and registration bursts on a network or device, are features the system maintains itself from
its own history. This module defines what is counted and when it is recent; ``redis_store``
keeps the counts in Redis for the workers and ``memory`` keeps them in memory for training, so
that training and serving compute the same numbers.

What is "recent" is measured on the records' own observation times, never on the clock of the
process that computes it: training replays months of history in seconds, and a served record is
observed moments before it is scored, so the same rule gives both the same answer. Redis's
expiry only bounds its memory, and is set longer than the windows it stands behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tasks.accounts.phones import phone_block
from tasks.accounts.signals import AccountSignals, DetectionPoint

NEIGHBOUR_FEATURES = (
    "block_ban_rate",
    "block_report_rate",
    "network_ban_rate",
    "network_report_rate",
    "device_ban_rate",
    "device_report_rate",
    "network_regs_1h",
    "device_regs_1h",
)

KINDS = ("block", "network", "device")
BURST_COLUMNS = slice(6, 8)

# A neighbourhood's ban and report rates count for a record while the neighbourhood had a ban or
# a report this recently before (or after) the record's observation; otherwise they are 0.
RECENT_SECONDS = 30 * 24 * 3600
# Registrations around an account's registration hour are known to records observed this soon
# after it registered; later records have no burst figures (missing, not 0: nothing is known).
# Messaging and feedback are observed up to 30 days after registering (see the simulator).
BURST_WINDOW_SECONDS = 30 * 24 * 3600


def neighbourhoods(record: AccountSignals) -> tuple[str, str, str]:
    """The (block, network, device) keys of a record, in the order of ``KINDS``."""
    reg = record.registration
    return phone_block(record.phone), reg.network_id, reg.device_id


def seconds(moment: dt.datetime) -> int:
    """A moment as whole seconds since the epoch: how both stores compare observation times."""
    return int(moment.timestamp())


Seconds = npt.NDArray[np.int64]


def hour_bucket(moment: dt.datetime) -> int:
    return seconds(moment) // 3600


def hour_buckets(moments: Seconds) -> Seconds:
    """``hour_bucket`` of many moments given as ``seconds``."""
    return moments // 3600


def times(records: Sequence[AccountSignals]) -> tuple[Seconds, Seconds]:
    """When each record was observed and when its account registered, as ``seconds``."""
    observed = np.array([r.observed_at.timestamp() for r in records], dtype=np.float64)
    registered = np.array(
        [r.registration.registered_at.timestamp() for r in records], dtype=np.float64
    )
    return observed.astype(np.int64), registered.astype(np.int64)


def recent_since(observed: Seconds) -> Seconds:
    """Per record, the moment after which a ban or report in a neighbourhood is recent."""
    return observed - RECENT_SECONDS


def burst_known(observed: Seconds, registered: Seconds) -> npt.NDArray[np.bool_]:
    """Per record, whether it is observed soon enough after registering to have burst figures."""
    return (observed - registered) < BURST_WINDOW_SECONDS


class NeighbourStore(Protocol):
    def observe(self, records: Sequence[AccountSignals], stage: DetectionPoint) -> None:
        """Count registrations (at the registration stage) and reported accounts (at any stage)
        in each neighbourhood."""

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        """Count banned accounts in their neighbourhoods."""

    def forget_bans(self, records: Sequence[AccountSignals]) -> None:
        """Stop counting the bans of these accounts: they were overturned on appeal."""

    def lookup(self, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        """One row of ``NEIGHBOUR_FEATURES`` per record."""

    def observe_and_lookup(
        self, records: Sequence[AccountSignals], stage: DetectionPoint
    ) -> npt.NDArray[np.float32]:
        """``observe`` then ``lookup``, in one step where the store can do that faster."""


def rates(
    registered: npt.NDArray[np.float64],
    banned: npt.NDArray[np.float64],
    reported: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Shares of each neighbourhood's accounts banned and reported.

    Its accounts are those registered in it, counted when their registration is scored; an
    account banned or reported without one (registered before bulkguard saw the neighbourhood)
    still counts, so a share never exceeds 1. A neighbourhood of one account says nothing yet.
    """
    accounts = np.maximum(np.maximum(registered, banned), reported)
    known = accounts > 1
    safe = np.where(known, accounts, 1.0)
    return np.where(known, banned / safe, 0.0), np.where(known, reported / safe, 0.0)


def registration_hours(record: AccountSignals) -> tuple[int, int]:
    """The hour buckets that make up "the last hour" around the account's registration.

    Anchored on the registration rather than the observation, so that a messaging-stage score
    days later still sees the burst its account was registered in.
    """
    registered = hour_bucket(record.registration.registered_at)
    return registered - 1, registered
