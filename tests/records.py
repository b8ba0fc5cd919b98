"""Hand-written account records in the payload format, shared by the unit tests."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from infra.db.models import utcnow
from tasks.accounts.signals import AccountSignals, DetectionPoint, validate_records
from tasks.offline.simulate_accounts import simulate

T0 = dt.datetime(2020, 1, 10, 12, 0, tzinfo=dt.UTC)


def messaging_block(**overrides: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "peak_msgs_15s": 2,
        "msgs_last_hour": 8,
        "msgs_last_day": 40,
        "minutes_to_first_burst": None,
        "unique_recipients_day": 7,
        "non_contact_ratio": 0.03,
        "reply_ratio": 0.8,
        "typing_ratio": 0.95,
        "groups_created_day": 0,
        "group_members_added_day": 0,
        "send_interval_cv": 2.5,
        "identical_content_ratio": 0.03,
    }
    block.update(overrides)
    return block


def feedback_block(**overrides: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"recipients_reached": 200, "blocks": 10, "reports": 4}
    block.update(overrides)
    return block


def record(
    account_id: str = "acc-1",
    *,
    phone: str = "+421905123456",
    registered_at: dt.datetime = T0,
    observed_at: dt.datetime | None = None,
    ip_country: str = "SK",
    network_id: str | None = None,
    device_id: str | None = None,
    client: str = "official",
    messaging: dict[str, Any] | None = None,
    feedback: dict[str, Any] | None = None,
    business: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON-ready record; optional blocks are left out unless given."""
    raw: dict[str, Any] = {
        "account_id": account_id,
        "phone": phone,
        "observed_at": (observed_at or registered_at + dt.timedelta(minutes=1)).isoformat(),
        "registration": {
            "registered_at": registered_at.isoformat(),
            "ip_country": ip_country,
            "network_id": network_id or f"net-{account_id}",
            "device_id": device_id or f"dev-{account_id}",
            "client": client,
        },
    }
    if messaging is not None:
        raw["messaging"] = copy.deepcopy(messaging)
    if feedback is not None:
        raw["feedback"] = copy.deepcopy(feedback)
    if business is not None:
        raw["business"] = copy.deepcopy(business)
    return raw


def parse(raw: list[dict[str, Any]], stage: DetectionPoint) -> list[AccountSignals]:
    """Validate records at the boundary, as the scoring task does; all must be valid."""
    valid, _positions, rejected = validate_records(stage, raw, now=utcnow())
    assert rejected == []
    return valid


def simulated_at(point: DetectionPoint, accounts: int, seed: int) -> list[dict[str, Any]]:
    """The simulator's records observed at ``point`` among ``accounts`` simulated accounts."""
    return [r for r in simulate(accounts, seed, stages="all") if r["stage"] == point.value]


def messaging_accounts(n: int, seed: int = 5) -> list[dict[str, Any]]:
    """``n`` simulated messaging-stage records, abusers (some with business profiles) among them."""
    return simulated_at(DetectionPoint.MESSAGING, n * 4, seed)[:n]
