"""The in-process neighbourhood store: training replays history through it, with the same rules
as the Redis store the workers use (``tasks.neighbourhoods.rules``)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tasks.accounts.signals import AccountSignals, DetectionPoint
from tasks.neighbourhoods.rules import (
    BURST_COLUMNS,
    KINDS,
    NEIGHBOUR_FEATURES,
    burst_known,
    hour_bucket,
    neighbourhoods,
    rates,
    recent_since,
    registration_hours,
    seconds,
    times,
)


class MemoryNeighbourStore:
    """The in-process store used to build training data, with the Redis store's semantics."""

    def __init__(self) -> None:
        self._members: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        self._regs: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        # Latest observation time of a ban or report in each (kind, key).
        self._heat: dict[tuple[str, str], int] = {}

    def observe(self, records: Sequence[AccountSignals], stage: DetectionPoint) -> None:
        registering = stage is DetectionPoint.REGISTRATION
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

    def forget_bans(self, records: Sequence[AccountSignals]) -> None:
        for record in records:
            for kind, key in zip(KINDS, neighbourhoods(record), strict=True):
                self._members[(kind, key, "ban")].discard(record.account_id)

    def _warm(self, kind: str, key: str, record: AccountSignals) -> None:
        at = seconds(record.observed_at)
        self._heat[(kind, key)] = max(self._heat.get((kind, key), at), at)

    def observe_and_lookup(
        self, records: Sequence[AccountSignals], stage: DetectionPoint
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
