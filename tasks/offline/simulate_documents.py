"""Simulated off-platform documents for the demo and the tests.

Companies whose accounts send in bulk advertise it; vendors with no account of their own sell
it; ordinary businesses publish contact pages. Dates straddle 7 December 2019 so that every
branch of the legal policy is exercised: claims continuing after the cut-off, claims that
stopped before it, and pages that claim nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from infra.settings import get_settings
from tasks.legal.policy import load_policy
from tasks.offline.simulate_accounts import companies

_CLAIMS = (
    "Bulk WhatsApp marketing: reach 100,000 customers a day with our automated WhatsApp sender.",
    "Hromadné správy cez WhatsApp pre vašu firmu - neobmedzené množstvo správ za mesiac.",
    "Unlimited WhatsApp messages with WhatsApp automation, no ban guaranteed.",
    "WhatsApp blast service: send thousands of WhatsApp messages in minutes.",
)
_NEUTRAL = (
    "Opening hours Monday to Friday. Write to us or call us for an appointment.",
    "Our shop sells handmade furniture. Contact our customer service for delivery dates.",
)


def documents(n_accounts: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng([seed, 4])
    cutoff = load_policy(get_settings().policy_version).off_platform_cutoff
    docs: list[dict[str, Any]] = []
    for i, firm in enumerate(companies(n_accounts, seed)):
        if firm.abusive:
            # Half keep advertising after the cut-off; the others only did so before it.
            continuing = i % 4 == 0
            when = (
                cutoff + dt.timedelta(days=float(rng.uniform(0, 40)))
                if continuing
                else cutoff - dt.timedelta(days=float(rng.uniform(1, 60)))
            )
            text = f"{_CLAIMS[i % len(_CLAIMS)]} Call {firm.phone} or write to sales@{firm.domain}."
        else:
            when = cutoff + dt.timedelta(days=float(rng.uniform(-30, 30)))
            text = f"{_NEUTRAL[i % len(_NEUTRAL)]} Phone {firm.phone}."
        docs.append(
            {
                "source": "off_platform",
                "kind": "public_claim" if firm.abusive else "other",
                "observed_at": when.isoformat(),
                "url": f"https://www.{firm.domain}/",
                "publisher": firm.name,
                "title": firm.name,
                "text": text,
            }
        )
    # Vendors with no accounts of their own: off-platform evidence is all there is.
    for j in range(max(1, n_accounts // 2000)):
        domain = f"bulksender{seed}x{j}.com"
        continuing = j % 2 == 0
        when = (
            cutoff + dt.timedelta(days=float(rng.uniform(1, 30)))
            if continuing
            else cutoff - dt.timedelta(days=float(rng.uniform(1, 30)))
        )
        docs.append(
            {
                "source": "off_platform",
                "kind": "advertisement",
                "observed_at": when.isoformat(),
                "url": f"https://{domain}/pricing",
                "publisher": f"BulkSender {seed}-{j}",
                "title": "Pricing",
                "text": f"{_CLAIMS[j % len(_CLAIMS)]} Plans from 9 EUR. info@{domain}",
            }
        )
    return docs
