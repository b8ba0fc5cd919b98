"""Aggregates over an account's neighbours: its number's 1,000-block, its network, its device.

Abuse comes in batches: SIM farms buy consecutive numbers, scripts register from one network,
emulators reuse a device fingerprint. The recent ban and report rates of those neighbourhoods,
and registration bursts on a network or device, are features the system maintains itself from
its own history. This module defines what is counted; ``infra.neighbour_store`` keeps the counts
in Redis for the workers, and :class:`MemoryNeighbourStore` keeps them in memory for training,
so that training and serving compute the same numbers.

What is "recent" is measured on the records' own observation times, never on the clock of the
process that computes it: training replays months of history in seconds, and a served record is
observed moments before it is scored, so the same rule gives both the same answer. Redis's
expiry only bounds its memory, and is set longer than the windows it stands behind.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from tasks.scoring.phones import phone_block
from tasks.scoring.signals import AccountSignals, Stage

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
    def observe(self, records: Sequence[AccountSignals], stage: Stage) -> None:
        """Count registrations (at the registration stage) and reported accounts (at any stage)
        in each neighbourhood."""

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        """Count banned accounts in their neighbourhoods."""

    def lookup(self, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        """One row of ``NEIGHBOUR_FEATURES`` per record."""

    def observe_and_lookup(
        self, records: Sequence[AccountSignals], stage: Stage
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


class MemoryNeighbourStore:
    """The in-process store used to build training data, with the Redis store's semantics."""

    def __init__(self) -> None:
        self._members: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        self._regs: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        # Latest observation time of a ban or report in each (kind, key).
        self._heat: dict[tuple[str, str], int] = {}

    def observe(self, records: Sequence[AccountSignals], stage: Stage) -> None:
        registering = stage is Stage.REGISTRATION
        for record in records:
            registered = hour_bucket(record.registration.registered_at)
            reported = record.feedback is not None and record.feedback.reports > 0
            for kind, key in zip(KINDS, neighbourhoods(record), strict=True):
                if registering:
                    self._members[(kind, key, "acc")].add(record.account_id)
                    if kind != "block":
                        self._regs[(kind, key, registered)].add(record.account_id)
                if reported:
                    self._members[(kind, key, "rep")].add(record.account_id)
                    self._warm(kind, key, record)

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        for record in records:
            for kind, key in zip(KINDS, neighbourhoods(record), strict=True):
                self._members[(kind, key, "ban")].add(record.account_id)
                self._warm(kind, key, record)

    def _warm(self, kind: str, key: str, record: AccountSignals) -> None:
        at = seconds(record.observed_at)
        self._heat[(kind, key)] = max(self._heat.get((kind, key), at), at)

    def observe_and_lookup(
        self, records: Sequence[AccountSignals], stage: Stage
    ) -> npt.NDArray[np.float32]:
        self.observe(records, stage)
        return self.lookup(records)

    def lookup(self, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(records), len(NEIGHBOUR_FEATURES)), dtype=np.float32)
        # counts[record, kind] = registered, banned, reported
        counts = np.array(
            [
                [
                    [len(self._members.get((kind, key, m), ())) for m in ("acc", "ban", "rep")]
                    for kind, key in zip(KINDS, neighbourhoods(record), strict=True)
                ]
                for record in records
            ],
            dtype=np.float64,
        ).reshape(len(records), len(KINDS), 3)
        observed, registered = times(records)
        # The latest ban or report of each record's neighbourhoods: their rates count if recent.
        latest = np.array(
            [
                [
                    self._heat.get((kind, key), -math.inf)
                    for kind, key in zip(KINDS, neighbourhoods(record), strict=True)
                ]
                for record in records
            ],
            dtype=np.float64,
        ).reshape(len(records), len(KINDS))
        hot = latest > recent_since(observed)[:, None]
        for k in range(len(KINDS)):
            banned, reported = rates(*counts[:, k].T)
            out[:, 2 * k] = np.where(hot[:, k], banned, 0.0)
            out[:, 2 * k + 1] = np.where(hot[:, k], reported, 0.0)
        known = burst_known(observed, registered)
        for row, record in enumerate(records):
            if not known[row]:
                out[row, BURST_COLUMNS] = np.nan
                continue
            hours = registration_hours(record)
            for column, kind, key in (
                (6, "network", record.registration.network_id),
                (7, "device", record.registration.device_id),
            ):
                seen: set[str] = set()
                for hour in hours:
                    seen |= self._regs.get((kind, key, hour), set())
                out[row, column] = len(seen)
        return out
