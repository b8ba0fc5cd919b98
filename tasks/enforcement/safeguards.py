"""What stands between an automatic decision and its effect: the ban-storm breaker and the
random delay before release, configured from the settings."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from infra.settings import Settings
from tasks.enforcement.breaker import BreakerLimits
from tasks.enforcement.release import ReleaseDelay


@dataclass(frozen=True)
class Safeguards:
    delay: ReleaseDelay
    breaker: BreakerLimits
    rng: random.Random


def from_settings(settings: Settings) -> Safeguards:
    return Safeguards(
        delay=ReleaseDelay(
            dt.timedelta(seconds=settings.release_delay_min_seconds),
            dt.timedelta(seconds=settings.release_delay_max_seconds),
        ),
        breaker=BreakerLimits(
            window=dt.timedelta(minutes=settings.breaker_window_minutes),
            baseline=dt.timedelta(hours=settings.breaker_baseline_hours),
            multiple=settings.breaker_multiple,
            min_bans=settings.breaker_min_bans,
        ),
        # Seeded from the system's entropy per call: release times must not be predictable.
        rng=random.Random(),
    )
