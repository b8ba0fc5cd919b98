"""A behaviour simulator of benign and abusive accounts at the three detection points.

Each population is drawn from the platform's published description of what automated and bulk
senders look like, and from the benign look-alikes a careful team must not ban:

* abuse is a combination of signals, never one alone: "100 messages in 15 seconds, five minutes
  after registering" is abuse; a heavy but ordinary user who forwards a photo album has one burst
  and nothing else;
* registration: number type (VoIP ranges), IP country vs the number's country, registrations in
  bursts from one network or device (SIM farms, emulator racks), unofficial or modified clients;
* messaging: send rate shortly after registration, recipients who do not have the sender as a
  contact, group creation and mass adds, missing typing indicator, machine-regular timing;
* negative feedback: blocks and reports from recipients.

docs/model.md ("The simulator") lists each rule and where it comes from. Records are JSON-ready
dicts in the payload format, each with its ``stage`` and a ``truth`` block (label and
population) that the scoring contract ignores but training reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.accounts.signals import DetectionPoint

DEFAULT_START = dt.datetime(2019, 11, 15, tzinfo=dt.UTC)
DEFAULT_SPAN_DAYS = 60
STAGES = (DetectionPoint.REGISTRATION, DetectionPoint.MESSAGING, DetectionPoint.FEEDBACK)

Rng = np.random.Generator
Behaviour = dict[str, Any]


@dataclass(frozen=True)
class Population:
    name: str
    abusive: bool
    weight: float
    # Parameters of the account's registration context and behaviour, drawn per account.
    draw: Callable[[Rng, float], Behaviour]
    hard: bool = False  # a benign look-alike that the model card reports separately
    # Share of its accounts that registered long before they are seen here: most of a
    # platform's traffic comes from established accounts, which have no registration-stage
    # record and no registration burst that bulkguard could still know of.
    established: float = 0.0


def _clip01(x: float) -> float:
    return float(min(max(x, 0.0), 1.0))


def _beta(rng: Rng, mean: float, strength: float = 20.0) -> float:
    mean = min(max(mean, 0.01), 0.99)
    return float(rng.beta(mean * strength, (1 - mean) * strength))


def _toward(abusive_value: float | np.integer[Any], benign_value: float, drift: float) -> float:
    """Drift moves abusers toward benign behaviour as they learn to evade the classifier."""
    start = float(abusive_value)
    return start + (benign_value - start) * drift


# ---------------------------------------------------------------------------- benign populations


def _casual(rng: Rng, _drift: float) -> Behaviour:
    # People differ: some send mostly voice notes and photos (little typing), some message
    # shops and services that never saved them (more non-contacts), a few get blocked by strangers.
    media_heavy = rng.random() < 0.1
    return {
        "client": "official" if rng.random() < 0.93 else "web",
        "peak_15s": int(rng.poisson(1.5)),
        "per_hour": int(rng.poisson(8)),
        "per_day": int(rng.poisson(40)),
        "first_burst_min": None if rng.random() < 0.6 else float(rng.uniform(60, 60 * 24 * 10)),
        "recipients": int(rng.poisson(6)) + 1,
        "non_contact": _beta(rng, 0.25 if rng.random() < 0.1 else 0.04),
        "reply": _beta(rng, 0.75),
        "typing": _beta(rng, 0.35 if media_heavy else 0.93, 20 if media_heavy else 40),
        "groups": int(rng.poisson(0.05)),
        "adds": int(rng.poisson(0.2)),
        "interval_cv": float(rng.uniform(1.2, 4.0)),
        "identical": _beta(rng, 0.05),
        "block_rate": _beta(rng, 0.002, 200),
        "report_rate": _beta(rng, 0.0005, 400),
    }


def _heavy_legit(rng: Rng, drift: float) -> Behaviour:
    b = _casual(rng, drift)
    # Heavy but personal: one photo-album forward makes a burst; everything else stays human.
    b.update(
        peak_15s=int(rng.integers(15, 80)),
        per_hour=int(rng.integers(60, 300)),
        per_day=int(rng.integers(300, 1500)),
        recipients=int(rng.integers(20, 90)),
        reply=_beta(rng, 0.7),
        typing=_beta(rng, 0.85, 30),
    )
    return b


def _small_business(rng: Rng, drift: float) -> Behaviour:
    b = _casual(rng, drift)
    # Customers often have not saved the business; templates repeat; volume stays within limits.
    b.update(
        client="business",
        per_hour=int(rng.integers(10, 80)),
        per_day=int(rng.integers(50, 400)),
        peak_15s=int(rng.integers(2, 12)),
        recipients=int(rng.integers(20, 150)),
        non_contact=_beta(rng, 0.45),
        reply=_beta(rng, 0.55),
        typing=_beta(rng, 0.6),
        identical=_beta(rng, 0.3),
        block_rate=_beta(rng, 0.006, 150),
        report_rate=_beta(rng, 0.002, 200),
        business=True,
    )
    return b


def _community_admin(rng: Rng, drift: float) -> Behaviour:
    b = _casual(rng, drift)
    # Creates groups and adds many members, but they know each other and talk back.
    b.update(
        groups=int(rng.integers(2, 12)),
        adds=int(rng.integers(40, 400)),
        per_day=int(rng.integers(80, 500)),
        recipients=int(rng.integers(30, 200)),
        non_contact=_beta(rng, 0.15),
        reply=_beta(rng, 0.6),
        identical=_beta(rng, 0.15),
    )
    return b


def _new_number(rng: Rng, drift: float) -> Behaviour:
    b = _casual(rng, drift)
    # "This is my new number": right after registering, one text to many people who have not
    # saved the number yet. Identical content and non-contacts, but typed by hand and answered.
    b.update(
        first_burst_min=float(rng.uniform(3, 120)),
        peak_15s=int(rng.integers(3, 15)),
        per_hour=int(rng.integers(40, 200)),
        per_day=int(rng.integers(60, 300)),
        recipients=int(rng.integers(40, 250)),
        non_contact=_beta(rng, 0.85),
        identical=_beta(rng, 0.8),
        reply=_beta(rng, 0.65),
        typing=_beta(rng, 0.7),
        new_account=True,
    )
    return b


# ---------------------------------------------------------------------------- abusive populations

# Share of bulk senders that also add people to groups; the rest send one to one.
GROUP_CAMPAIGN_SHARE = 0.35


def _bulk_marketer(rng: Rng, drift: float) -> Behaviour:
    # Most bulk senders write one to one; about a third also run group campaigns (mass adds), so
    # that no group adds at all is common among them, as it is among ordinary people.
    groups = rng.random() < GROUP_CAMPAIGN_SHARE
    return {
        "client": "business" if rng.random() < 0.5 else "official",
        "peak_15s": int(_toward(rng.integers(40, 160), 6, drift)),
        "per_hour": int(_toward(rng.integers(500, 3000), 60, drift)),
        "per_day": int(_toward(rng.integers(3000, 20000), 300, drift)),
        "first_burst_min": float(rng.uniform(2, 60 * 24)),
        "recipients": int(_toward(rng.integers(800, 8000), 100, drift)),
        "non_contact": _beta(rng, _toward(0.95, 0.4, drift)),
        "reply": _beta(rng, _toward(0.04, 0.4, drift)),
        "typing": _beta(rng, _toward(0.1, 0.6, drift)),
        "groups": int(rng.poisson(2)) if groups else 0,
        "adds": int(rng.poisson(60)) if groups else 0,
        "interval_cv": float(_toward(rng.uniform(0.05, 0.6), 1.5, drift)),
        "identical": _beta(rng, _toward(0.92, 0.3, drift)),
        "block_rate": _beta(rng, 0.04, 60),
        "report_rate": _beta(rng, 0.015, 80),
        "business": True,
    }


def _drip_marketer(rng: Rng, drift: float) -> Behaviour:
    # Bulk sending spread thin to stay under rate limits: a few hundred messages a day, at a
    # human-looking pace, to people who mostly never saved the number. It looks much like a small
    # business; what gives it away is the one-way traffic, repeated content and the blocks.
    groups = rng.random() < GROUP_CAMPAIGN_SHARE
    return {
        "client": "business" if rng.random() < 0.6 else "official",
        "peak_15s": int(rng.integers(2, 12)),
        "per_hour": int(rng.integers(15, 80)),
        "per_day": int(rng.integers(100, 500)),
        "first_burst_min": float(rng.uniform(60, 60 * 24 * 5)),
        "recipients": int(rng.integers(80, 400)),
        "non_contact": _beta(rng, _toward(0.62, 0.45, drift), 8),
        "reply": _beta(rng, _toward(0.25, 0.5, drift), 8),
        "typing": _beta(rng, _toward(0.5, 0.6, drift), 8),
        "groups": int(rng.poisson(1)) if groups else 0,
        "adds": int(rng.poisson(10)) if groups else 0,
        "interval_cv": float(_toward(rng.uniform(0.5, 1.6), 1.5, drift)),
        "identical": _beta(rng, _toward(0.5, 0.3, drift), 8),
        "block_rate": _beta(rng, 0.01, 60),
        "report_rate": _beta(rng, 0.005, 120),
        "business": True,
    }


def _automation(rng: Rng, drift: float) -> Behaviour:
    b = _bulk_marketer(rng, drift)
    # Scripts and emulators: the published example, 100 messages in 15 s minutes after signing up,
    # with no typing indicator and clockwork intervals; racks share networks and devices.
    b.update(
        client="web" if rng.random() < 0.3 else "official",
        peak_15s=int(_toward(rng.integers(70, 200), 8, drift)),
        first_burst_min=float(rng.uniform(1, 30)),
        typing=_beta(rng, _toward(0.01, 0.5, drift), 60),
        # Scripts rotate templates, so repeated content varies widely between operations.
        identical=_beta(rng, _toward(float(rng.uniform(0.3, 0.98)), 0.3, drift), 30),
        interval_cv=float(_toward(rng.uniform(0.01, 0.2), 1.5, drift)),
        voip=rng.random() < 0.5,
        mismatch=rng.random() < 0.6,
        rack=True,
        new_account=True,
        business=rng.random() < 0.3,
    )
    return b


def _sim_farm(rng: Rng, drift: float) -> Behaviour:
    b = _automation(rng, drift)
    # Multi-SIM farms: consecutive numbers from one block, a few devices, registered in bursts.
    b.update(
        farm=True,
        voip=False,
        mismatch=rng.random() < 0.3,
        per_day=int(_toward(rng.integers(500, 5000), 200, drift)),
    )
    return b


def _modified_client(rng: Rng, drift: float) -> Behaviour:
    b = _bulk_marketer(rng, drift)
    b.update(
        client="modified",
        peak_15s=int(_toward(rng.integers(20, 120), 6, drift)),
        business=rng.random() < 0.4,
    )
    return b


def _compromised(rng: Rng, drift: float) -> Behaviour:
    b = _casual(rng, drift)
    # A long-standing account taken over: sudden spam to its own contacts, same link to all,
    # machine pace, and contacts report it. Few non-contacts, so volume alone does not show it.
    b.update(
        peak_15s=int(rng.integers(30, 120)),
        per_hour=int(rng.integers(200, 1500)),
        per_day=int(rng.integers(400, 3000)),
        recipients=int(rng.integers(80, 600)),
        non_contact=_beta(rng, 0.1),
        identical=_beta(rng, 0.9),
        typing=_beta(rng, 0.08),
        reply=_beta(rng, 0.15),
        interval_cv=float(rng.uniform(0.05, 0.5)),
        block_rate=_beta(rng, 0.05, 60),
        report_rate=_beta(rng, 0.02, 80),
    )
    return b


def _quiet_takeover(rng: Rng, drift: float) -> Behaviour:
    b = _casual(rng, drift)
    # Taken over and used quietly: a few hundred messages a day to its own contacts at a
    # pace a person could keep, some typed; the same link to most, and a few reports.
    b.update(
        peak_15s=int(rng.integers(4, 25)),
        per_hour=int(rng.integers(20, 120)),
        per_day=int(rng.integers(60, 350)),
        recipients=int(rng.integers(30, 200)),
        non_contact=_beta(rng, 0.12),
        identical=_beta(rng, 0.6, 8),
        typing=_beta(rng, 0.45, 8),
        reply=_beta(rng, 0.35, 8),
        interval_cv=float(rng.uniform(0.4, 1.3)),
        block_rate=_beta(rng, 0.012, 80),
        report_rate=_beta(rng, 0.005, 120),
        tactics=["quiet_takeover"],
    )
    return b


def _sleeper(rng: Rng, drift: float) -> Behaviour:
    # Looks ordinary for weeks: an aged number warmed up with seeded conversations, a person's
    # pace and a small daily volume, the campaign spread over many such accounts (some crews
    # share networks and devices). How far it has started to show is its own (``showing``):
    # the most careful are an ordinary person on every signal, the rest a little off on each
    # (more strangers, more repeated text, fewer replies, a few more messages, the odd block).
    b = _casual(rng, drift)
    showing = float(rng.uniform(0, 1)) * (1 - drift)

    def toward(value: float, campaign: float) -> float:
        return value + (campaign - value) * showing

    b.update(
        per_day=int(toward(b["per_day"], 120)),
        recipients=int(toward(b["recipients"], 40)),
        non_contact=toward(b["non_contact"], 0.4),
        reply=toward(b["reply"], 0.4),
        identical=toward(b["identical"], 0.5),
        block_rate=toward(b["block_rate"], 0.02),
        report_rate=toward(b["report_rate"], 0.006),
        rack=rng.random() < 0.3,
        tactics=["aged_number", "human_pacing", "small_volume", "warmed_up"],
    )
    return b


# Heavy senders with good reason: what each sends looks like a campaign on one or more signals.
_ANNOUNCERS: tuple[tuple[str, Callable[[Rng], Behaviour]], ...] = (
    (
        # Schools and clubs: one notice to every parent, many of whom never saved the number.
        "school",
        lambda rng: {
            "identical": _beta(rng, 0.85),
            "non_contact": _beta(rng, 0.55),
            "reply": _beta(rng, 0.2),
            "typing": _beta(rng, 0.5),
            "interval_cv": float(rng.uniform(0.6, 1.6)),
        },
    ),
    (
        # Delivery updates from a small courier: templated, scheduled, one way, to strangers.
        "delivery_updates",
        lambda rng: {
            "client": "business",
            "business": True,
            "identical": _beta(rng, 0.75),
            "non_contact": _beta(rng, 0.8),
            "reply": _beta(rng, 0.12),
            "typing": _beta(rng, 0.25),
            "interval_cv": float(rng.uniform(0.3, 1.0)),
        },
    ),
    (
        # A small shop's offers to its customers: a template, some replies.
        "small_shop",
        lambda rng: {
            "client": "business",
            "business": True,
            "identical": _beta(rng, 0.6),
            "non_contact": _beta(rng, 0.5),
            "reply": _beta(rng, 0.35),
            "typing": _beta(rng, 0.55),
            "interval_cv": float(rng.uniform(0.8, 2.0)),
        },
    ),
)


def _announcer(rng: Rng, drift: float) -> Behaviour:
    b = _casual(rng, drift)
    kind, sends = _ANNOUNCERS[int(rng.integers(len(_ANNOUNCERS)))]
    b.update(
        peak_15s=int(rng.integers(5, 30)),
        per_hour=int(rng.integers(30, 200)),
        per_day=int(rng.integers(80, 600)),
        recipients=int(rng.integers(60, 400)),
        block_rate=_beta(rng, 0.005, 150),
        report_rate=_beta(rng, 0.0015, 200),
        tactics=[kind],
    )
    b.update(sends(rng))
    return b


def _election_volunteer(rng: Rng, drift: float) -> Behaviour:
    b = _casual(rng, drift)
    # Election week: the same appeal pasted to everyone on a canvassing list, at a person's
    # pace; many recipients never saved the number and some block or report it.
    b.update(
        peak_15s=int(rng.integers(3, 15)),
        per_hour=int(rng.integers(20, 90)),
        per_day=int(rng.integers(60, 350)),
        recipients=int(rng.integers(50, 300)),
        non_contact=_beta(rng, 0.65, 10),
        identical=_beta(rng, 0.8),
        reply=_beta(rng, 0.25, 10),
        typing=_beta(rng, 0.5, 10),
        interval_cv=float(rng.uniform(0.7, 2.0)),
        block_rate=_beta(rng, 0.015, 80),
        report_rate=_beta(rng, 0.005, 120),
        tactics=["election_week"],
    )
    return b


# ------------------------------------------------------------------------------- overlap

# Share of the benign look-alikes (the hard populations) that recipients reported wrongly
# enough for the account to be labelled abusive: label noise that is not random.
WRONG_REPORT_SHARE = 0.03

# How strongly the shared latent intensity scales an account's volumes: exp(0.45 z), z ~ N(0, 1),
# so one account in twenty sends about twice its population's typical volume on every count at
# once, and benign heavy tails reach abusive values.
INTENSITY_SCALE = 0.45
# Share of benign accounts with one abuser-like signal (and nothing else unusual).
ODD_SIGNAL_SHARE = 0.15
# Share of abusive accounts (except taken-over ones) that evade, by three to six tactics at once.
DEFAULT_EVASION = 0.3
_VOLUMES = ("peak_15s", "per_hour", "per_day", "recipients", "adds")


def _with_intensity(b: Behaviour, z: float) -> Behaviour:
    """Everyone has a latent intensity that moves all their volumes together: busy people are
    busy on every count, and type and answer a little less."""
    factor = float(np.exp(INTENSITY_SCALE * z))
    out = {**b, **{k: max(round(b[k] * factor), 0) for k in _VOLUMES}}
    out["peak_15s"] = max(out["peak_15s"], 1)
    out["per_day"] = max(out["per_day"], out["peak_15s"])
    out["typing"] = _clip01(b["typing"] - 0.04 * z)
    out["reply"] = _clip01(b["reply"] - 0.03 * z)
    return out


# The habits that give an ordinary person one abuser-like value: voice notes only, a scheduled
# reminder, one greeting pasted to many, messages to shops, a forwarded album, the web client
# abroad. Each draws the values it changes.
_HABITS: tuple[tuple[str, Callable[[Rng], Behaviour]], ...] = (
    ("voice_notes", lambda rng: {"typing": _beta(rng, 0.1)}),
    ("scheduled_reminder", lambda rng: {"interval_cv": float(rng.uniform(0.1, 0.5))}),
    ("pasted_greeting", lambda rng: {"identical": _beta(rng, 0.8)}),
    ("messages_shops", lambda rng: {"non_contact": _beta(rng, 0.7)}),
    ("forwarded_album", lambda rng: {"peak_15s": int(rng.integers(40, 120))}),
    ("web_abroad", lambda _rng: {"client": "web", "mismatch": True}),
)

# Evasion tactics: drip sending, human-like delays, an emulated typing indicator, numbers warmed
# up with seeded conversations, aged accounts (seen long after registering), varied templates.
_TACTICS: tuple[tuple[str, Callable[[Rng], Behaviour]], ...] = (
    (
        "drip_volume",
        lambda rng: {
            "per_day": int(rng.integers(100, 400)),
            "per_hour": int(rng.integers(10, 60)),
            "peak_15s": int(rng.integers(3, 12)),
            "recipients": int(rng.integers(60, 300)),
        },
    ),
    ("human_delays", lambda rng: {"interval_cv": float(rng.uniform(1.0, 2.5))}),
    ("emulated_typing", lambda rng: {"typing": _beta(rng, 0.75)}),
    ("warmed_up", lambda rng: {"reply": _beta(rng, 0.45), "non_contact": _beta(rng, 0.35)}),
    (
        "aged_number",
        lambda rng: {
            "aged": True,
            "new_account": False,
            "rack": False,
            "farm": False,
            "first_burst_min": float(rng.uniform(60 * 24, 60 * 24 * 30)),
        },
    ),
    ("varied_templates", lambda rng: {"identical": _beta(rng, 0.25)}),
)


def _odd_signal(rng: Rng, b: Behaviour) -> Behaviour:
    """One abuser-like value on one signal, for a person with a habit (named in ``tactics``,
    for the model card's table of errors)."""
    name, habit = _HABITS[int(rng.integers(len(_HABITS)))]
    return {**b, **habit(rng), "tactics": [*b.get("tactics", []), name]}


def _evade(rng: Rng, b: Behaviour) -> Behaviour:
    """Three to six evasion tactics at once (named in ``tactics``)."""
    tactics = rng.choice(len(_TACTICS), size=int(rng.integers(3, 7)), replace=False)
    evading = dict(b)
    names = []
    for tactic in tactics:
        name, apply = _TACTICS[int(tactic)]
        evading.update(apply(rng))
        names.append(name)
    evading["tactics"] = [*b.get("tactics", []), *sorted(names)]
    return evading


POPULATIONS: tuple[Population, ...] = (
    Population("casual", False, 0.61, _casual, established=0.5),
    Population("heavy_legit", False, 0.08, _heavy_legit, hard=True, established=0.5),
    Population("small_business", False, 0.08, _small_business, hard=True, established=0.4),
    Population("community_admin", False, 0.04, _community_admin, hard=True, established=0.5),
    Population("new_number_announcer", False, 0.04, _new_number, hard=True),
    Population("bulk_marketer", True, 0.04, _bulk_marketer),
    Population("drip_marketer", True, 0.02, _drip_marketer),
    Population("automation_script", True, 0.03, _automation),
    Population("sim_farm", True, 0.03, _sim_farm),
    Population("modified_client", True, 0.02, _modified_client),
    # Taken over now, registered long ago.
    Population("compromised", True, 0.01, _compromised, established=1.0),
)
# The hard cases: beside the populations above, the ones that make a real platform's errors, as
# common as they are there: abusers who look ordinary for weeks, accounts taken over and used
# quietly, and benign heavy senders with good reason.
HARD_POPULATIONS: tuple[Population, ...] = (
    Population("announcer", False, 0.04, _announcer, hard=True, established=0.6),
    Population("election_volunteer", False, 0.02, _election_volunteer, hard=True, established=0.7),
    Population("quiet_takeover", True, 0.015, _quiet_takeover, established=1.0),
    # Aged numbers: registered long before their campaign.
    Population("sleeper_sender", True, 0.05, _sleeper, established=1.0),
)
POPULATION_BY_NAME = {p.name: p for p in (*POPULATIONS, *HARD_POPULATIONS)}

# Country, calling code, mobile prefixes of national numbers (ranges in use, so that numbers
# drawn from them are valid mobiles, as real users' are), a VoIP prefix, and national length.
_COUNTRIES = (
    ("SK", "421", ("905", "910", "915", "940", "944", "948", "950"), None, 9),
    ("GB", "44", ("74", "75", "77", "78", "79"), "56", 10),
    ("NL", "31", ("61", "62", "63", "64", "65"), "85", 9),
    ("IN", "91", ("98", "99", "97", "96"), None, 10),
    ("BR", "55", ("119", "219", "319"), None, 11),
    ("ID", "62", ("811", "812", "813", "821", "822", "852"), None, 10),
    ("DE", "49", ("151", "152", "160", "170", "171", "176"), None, 11),
    ("MX", "52", ("55", "33", "81"), None, 10),
)
_IP_COUNTRIES = ("SK", "GB", "NL", "IN", "BR", "ID", "DE", "MX", "US", "RU", "CN", "VN")

COMPANY_COUNT_DIVISOR = 400  # about one abusive company per 400 accounts


@dataclass(frozen=True)
class SimulatedCompany:
    name: str
    domain: str
    phone: str
    abusive: bool


def companies(n_accounts: int, seed: int) -> list[SimulatedCompany]:
    """The businesses behind business profiles: abusive senders and ordinary small firms."""
    rng = np.random.default_rng([seed, 1])
    count = max(2, n_accounts // COMPANY_COUNT_DIVISOR)
    stems = ("Reach", "Blast", "Promo", "Mass", "Lead", "Ping", "Buzz", "Wave", "Echo", "Swift")
    tails = ("Media", "Marketing", "Connect", "Digital", "Solutions", "Labs", "Growth", "Send")
    out = []
    for i in range(count):
        abusive = i % 2 == 0
        name = f"{stems[rng.integers(len(stems))]}{tails[rng.integers(len(tails))]} {i}"
        slug = name.lower().replace(" ", "")
        out.append(
            SimulatedCompany(
                name=f"{name} {'s.r.o.' if rng.random() < 0.5 else 'Ltd'}",
                domain=f"{slug}.{'sk' if rng.random() < 0.5 else 'co.uk'}",
                phone=f"+4219{rng.integers(10_000_000, 99_999_999)}",
                abusive=abusive,
            )
        )
    return out


def simulate(
    n_accounts: int,
    seed: int,
    *,
    stages: str = "mixed",
    label_noise: float = 0.0,
    drift: float = 0.0,
    evasion: float = DEFAULT_EVASION,
    start: dt.datetime = DEFAULT_START,
    span_days: int = DEFAULT_SPAN_DAYS,
) -> Iterator[dict[str, Any]]:
    """Yield payload records in observation order.

    ``stages="mixed"`` gives each account one record at a stage drawn as in live traffic;
    ``stages="all"`` gives every account a record at each of the three detection points (for
    training). ``label_noise`` flips that share of labels, in both directions; ``drift`` (0..1)
    moves abusers toward benign behaviour, for testing a model against a changing adversary;
    ``evasion`` is the share of abusive accounts that evade (see :func:`_evade`). The world
    always holds :data:`HARD_POPULATIONS`, and a share of the benign look-alikes is labelled
    abusive, as wrong reports upheld would (:data:`WRONG_REPORT_SHARE`).
    """
    rng = np.random.default_rng(seed)
    populations = (*POPULATIONS, *HARD_POPULATIONS)
    weights = np.array([p.weight for p in populations])
    picks = rng.choice(len(populations), size=n_accounts, p=weights / weights.sum())
    firms = companies(n_accounts, seed)
    abusive_firms = [c for c in firms if c.abusive] or firms
    legit_firms = [c for c in firms if not c.abusive] or firms
    span = dt.timedelta(days=span_days)
    farm_blocks: dict[int, tuple[str, str, int]] = {}
    records: list[tuple[dt.datetime, int, dict[str, Any]]] = []
    for i, pick in enumerate(picks):
        population = populations[pick]
        b = _behaviour(rng, population, drift, evasion)
        # Racks and farms operate in crews of ~25 accounts sharing a network and a few devices.
        crew = i // 25 if b.get("rack") or b.get("farm") else None
        registered = start + span * float(rng.random())
        if crew is not None:
            crew_rng = np.random.default_rng([seed, 2, crew, int(pick)])
            registered = (
                start
                + span * float(crew_rng.random())
                + dt.timedelta(minutes=float(rng.uniform(0, 50)))
            )
        active_from = registered
        established = b.get("aged", False) or (
            population.established > 0 and rng.random() < population.established
        )
        if established:
            # Seen now, registered long ago: its registration was an ordinary one.
            registered -= dt.timedelta(days=float(rng.uniform(200, 2000)))
        phone, country = _phone(rng, b, crew, seed, farm_blocks)
        ip_country = country
        if b.get("mismatch") or rng.random() < 0.03:  # travellers and VPNs exist too
            ip_country = str(rng.choice(_IP_COUNTRIES))
        network = f"net-{crew}-{pick}" if crew is not None else f"net-{int(rng.integers(0, 5000))}"
        device = (
            f"dev-{crew}-{pick}-{int(rng.integers(0, 3))}"
            if crew is not None
            else f"dev-{seed}-{i}"
        )
        label = _label(rng, population, label_noise)
        base = {
            "account_id": f"acc-{seed}-{i:07d}",
            "phone": phone,
            "registration": {
                "registered_at": registered.isoformat(),
                "ip_country": ip_country,
                "network_id": network,
                "device_id": device,
                "client": b["client"],
            },
            "truth": {
                "label": label,
                "population": population.name,
                # What makes it hard: a benign habit or an abuser's evasion tactics.
                "tactics": b.get("tactics", []),
            },
        }
        if b.get("business"):
            firm_pool = abusive_firms if population.abusive else legit_firms
            firm = firm_pool[int(rng.integers(len(firm_pool)))]
            base["business"] = {
                "name": firm.name,
                "website": f"https://www.{firm.domain}/",
                "email": f"sales@{firm.domain}",
            }
        chosen: tuple[DetectionPoint, ...] = STAGES if stages == "all" else (_live_stage(rng),)
        if established:
            # Only seen from now on: its registration is older than anything kept here.
            chosen = tuple(
                dict.fromkeys(
                    DetectionPoint.MESSAGING if s is DetectionPoint.REGISTRATION else s
                    for s in chosen
                )
            )
        for stage in chosen:
            observed = _observed_at(rng, stage, active_from, b)
            record: dict[str, Any] = {
                **base,
                "stage": stage.value,
                "observed_at": observed.isoformat(),
            }
            if stage is not DetectionPoint.REGISTRATION:
                since = (observed - active_from).total_seconds() / 3600
                if b["first_burst_min"] is not None and not established:
                    since -= b["first_burst_min"] / 60
                record["messaging"] = _messaging(rng, b, since)
            if stage is DetectionPoint.FEEDBACK:
                record["feedback"] = _feedback(rng, b, record["messaging"])
            records.append((observed, i, record))
    records.sort(key=lambda item: (item[0], item[1]))
    for _, _, record in records:
        yield record


def _label(rng: Rng, population: Population, noise: float) -> int:
    """The label training is told: the truth, flipped at random with ``noise``, and abusive for
    a share of the benign look-alikes (reported, and the report wrongly upheld: what the model
    learns is not the truth)."""
    label = int(population.abusive)
    if noise and rng.random() < noise:
        label = 1 - label
    if population.hard and rng.random() < WRONG_REPORT_SHARE:
        label = 1
    return label


def _behaviour(rng: Rng, population: Population, drift: float, evasion: float) -> Behaviour:
    """One account's behaviour: its population's, scaled by its latent intensity, with a
    benign account's odd habit or an abuser's evasion."""
    b = _with_intensity(population.draw(rng, drift), float(rng.normal()))
    if not population.abusive and rng.random() < ODD_SIGNAL_SHARE:
        return _odd_signal(rng, b)
    if population.abusive and population.established < 1 and rng.random() < evasion:
        return _evade(rng, b)
    return b


def _live_stage(rng: Rng) -> DetectionPoint:
    return STAGES[int(rng.choice(3, p=[0.3, 0.5, 0.2]))]


def _phone(
    rng: Rng,
    b: Behaviour,
    crew: int | None,
    seed: int,
    farm_blocks: dict[int, tuple[str, str, int]],
) -> tuple[str, str]:
    if b.get("farm") and crew is not None:
        # Consecutive numbers: the whole crew sits in one 1,000-block.
        if crew not in farm_blocks:
            country, code, mobiles, _voip, length = _COUNTRIES[int(rng.integers(len(_COUNTRIES)))]
            mobile = mobiles[int(rng.integers(len(mobiles)))]
            body = mobile + "".join(str(d) for d in rng.integers(0, 10, length - len(mobile) - 3))
            farm_blocks[crew] = (country, f"+{code}{body}", 0)
        country, block, used = farm_blocks[crew]
        farm_blocks[crew] = (country, block, used + 1)
        return f"{block}{(used * 7 + seed) % 1000:03d}", country
    country, code, mobiles, voip, length = _COUNTRIES[int(rng.integers(len(_COUNTRIES)))]
    if b.get("voip") and not voip:
        country, code, mobiles, voip, length = _COUNTRIES[1]
    prefix = voip if (b.get("voip") and voip) else mobiles[int(rng.integers(len(mobiles)))]
    body = "".join(str(d) for d in rng.integers(0, 10, length - len(prefix)))
    return f"+{code}{prefix}{body}", country


def _observed_at(
    rng: Rng, stage: DetectionPoint, registered: dt.datetime, b: Behaviour
) -> dt.datetime:
    if stage is DetectionPoint.REGISTRATION:
        return registered + dt.timedelta(seconds=float(rng.uniform(1, 30)))
    if stage is DetectionPoint.MESSAGING:
        if b.get("new_account") and b["first_burst_min"] is not None:
            # Caught soon after the first burst: the published case is minutes after sign-up.
            minutes = b["first_burst_min"] + float(rng.exponential(25)) + 0.5
            return registered + dt.timedelta(minutes=minutes)
        return registered + dt.timedelta(hours=float(rng.uniform(1, 24 * 20)))
    return registered + dt.timedelta(hours=float(rng.uniform(24, 24 * 30)))


def _messaging(rng: Rng, b: Behaviour, sending_hours: float) -> dict[str, Any]:
    """Windowed counts, capped by how long the account has been sending when it is observed:
    an account caught minutes after its first burst has sent little more than that burst."""
    recipients = max(int(b["recipients"] * rng.uniform(0.8, 1.2)), 1)
    per_day = max(int(b["per_day"] * rng.uniform(0.8, 1.2)), b["peak_15s"])
    per_hour = min(max(int(b["per_hour"] * rng.uniform(0.8, 1.2)), b["peak_15s"]), per_day)
    if sending_hours < 24:
        share = max(sending_hours, 0.0)
        per_hour = max(b["peak_15s"], int(per_hour * min(share, 1.0)))
        per_day = max(per_hour, int(per_day * share / 24))
        recipients = max(1, min(recipients, int(recipients * share / 24) + b["peak_15s"]))
    return {
        "peak_msgs_15s": b["peak_15s"],
        "msgs_last_hour": per_hour,
        "msgs_last_day": per_day,
        "minutes_to_first_burst": b["first_burst_min"],
        "unique_recipients_day": min(recipients, per_day),
        "non_contact_ratio": round(b["non_contact"], 4),
        "reply_ratio": round(b["reply"], 4),
        "typing_ratio": round(b["typing"], 4),
        "groups_created_day": b["groups"],
        "group_members_added_day": b["adds"],
        "send_interval_cv": round(b["interval_cv"], 4),
        "identical_content_ratio": round(b["identical"], 4),
    }


def _feedback(rng: Rng, b: Behaviour, messaging: dict[str, Any]) -> dict[str, Any]:
    reached = int(messaging["unique_recipients_day"] * rng.uniform(1, 5))
    return {
        "recipients_reached": reached,
        "blocks": int(rng.binomial(reached, _clip01(b["block_rate"]))),
        "reports": int(rng.binomial(reached, _clip01(b["report_rate"]))),
    }
