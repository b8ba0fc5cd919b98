"""Aggregates over an account's neighbours: its number's 1,000-block, its network, its device.

Abuse comes in batches: SIM farms buy consecutive numbers, scripts register from one network,
emulators reuse a device fingerprint. The recent ban and report rates of those neighbourhoods,
and registration bursts on a network or device, are features the system maintains itself from
its own history. This module defines what is counted; ``infra.neighbour_store`` keeps the counts
in Redis for the workers, and :class:`MemoryNeighbourStore` keeps them in memory for training,
so that training and serving compute the same numbers.
"""

from __future__ import annotations

import datetime as dt
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


def neighbourhoods(record: AccountSignals) -> tuple[str, str, str]:
    """The (block, network, device) keys of a record, in the order of ``KINDS``."""
    reg = record.registration
    return phone_block(record.phone), reg.network_id, reg.device_id


def hour_bucket(moment: dt.datetime) -> int:
    return int(moment.timestamp() // 3600)


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

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        for record in records:
            for kind, key in zip(KINDS, neighbourhoods(record), strict=True):
                self._members[(kind, key, "ban")].add(record.account_id)

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
        for k in range(len(KINDS)):
            out[:, 2 * k], out[:, 2 * k + 1] = rates(*counts[:, k].T)
        for row, record in enumerate(records):
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
