"""Neighbourhood counters in Redis, shared by every scoring worker.

Distinct accounts are counted with HyperLogLogs (PFADD/PFCOUNT): adding the same account twice
changes nothing, so a redelivered batch does not inflate a rate, and each key costs at most 12 KB
however many accounts it sees. The windows that make figures "recent" are rules on the records'
observation times (``rules``), applied here exactly as training applies them; expiry only
bounds the footprint, by the number of neighbourhoods active within a window, and
each key outlives the window that needs it by a day. Only the registration stage, reported
accounts and bans write; the messaging stage, which is most of the traffic, only reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import redis
from redis.cluster import RedisCluster

from infra.redis_client import get_counters_redis
from tasks.accounts.signals import AccountSignals, DetectionPoint
from tasks.neighbourhoods.placement import ClusterPrimaries, OneRedis, Placement
from tasks.neighbourhoods.rules import (
    BURST_COLUMNS,
    BURST_WINDOW_SECONDS,
    KINDS,
    NEIGHBOUR_FEATURES,
    RECENT_SECONDS,
    burst_known,
    hour_bucket,
    hour_buckets,
    neighbourhoods,
    rates,
    recent_since,
    seconds,
    times,
)

# The key layout's version is part of every key: a release that changes what a key holds moves
# to a new prefix, so its workers never misread keys written by the previous one (a count read as
# zero would inflate a rate); they start from an empty store while the old keys expire.
PREFIX = "bulkguard:nb:v3"
# How much later than the moment it describes a batch may be scored and still find its keys.
SLACK_SECONDS = 24 * 3600
RECENT_TTL_SECONDS = RECENT_SECONDS + SLACK_SECONDS
BURST_TTL_SECONDS = BURST_WINDOW_SECONDS + SLACK_SECONDS
# How long a registration is remembered so that a redelivered batch does not count it again.
REDELIVERY_SECONDS = 2 * 24 * 3600


# Every key belongs to one neighbourhood ("<kind>:<id>") or one registration counter
# ("regs:<kind>:<hour>:<id>"), named in braces as its hash tag, so that on a Redis Cluster all
# keys of one belong to one slot and the work of a batch splits by node (``placement``).
#
# Writes go in one Lua script call per batch (per node on a cluster): its input is one JSON
# argument, since the per-command and per-argument costs of a client would otherwise dominate a
# 1,000-account batch. Reads are plain MGETs on one Redis, sent in the same pipeline after the
# script (a read inside Lua costs Redis several times more); on a cluster the node's script
# reads them too.
#
# What a neighbourhood keeps: three HyperLogLog sketches of its accounts ("acc", registered in
# it), banned ("ban") and reported ("rep") accounts, one of bans lifted on appeal ("lift"), and
# one fixed-width key ("n") of ten ASCII digits per field: the four sketches' counts and the
# latest observation time of a ban or a report in it (batches land in any order, so it only
# goes up). A field never written reads as zero bytes. Reads fetch the "n" key of each of a
# batch's neighbourhoods, one key each; most neighbourhoods never see a ban or a report, and
# the rates of those with none in the record's recent window are 0 whatever their size.
#
# Registrations per network and device are plain counters, one per kind, hour and id, read for
# a whole batch with one MGET. (Counters in hashes per hour or per day cost more: most such
# hashes are small, and Redis keeps small hashes as lists that every field lookup scans.) A
# counter goes up only for an account not yet in the set of accounts it counted ("<counter>:
# seen"), so a redelivered registration is not counted twice; that set is kept for
# REDELIVERY_SECONDS after its last registration only.
_SCRIPT = """
local recent, burst, redelivery = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local read_mode, entries = ARGV[4], cjson.decode(ARGV[5])
-- Lua's unpack is limited to a few thousand values: every variadic call goes in slices.
local function each_slice(items, fn)
  for i = 1, #items, 1000 do fn({unpack(items, i, math.min(i + 999, #items))}) end
end
local offset = {acc = 0, ban = 10, rep = 20, lift = 30}
local HOT = 40

for _, e in ipairs(entries) do
  if e[1] == 'n' then
    -- ['n', neighbourhood, metric 'acc' | 'ban' | 'rep' | 'lift', members, hot since]
    local hood, metric, hot_at = e[2], e[3], e[5]
    local k, n = hood .. ':' .. metric, hood .. ':n'
    -- Lifted bans are a sketch of their own that reads subtract from the bans. It must
    -- describe the same bans: a lift whose neighbourhood's bans have expired lifts nothing,
    -- and a ban sketch started afresh starts with no lifts.
    local bans_known = redis.call('EXISTS', hood .. ':ban') == 1
    if metric == 'ban' and not bans_known then
      redis.call('DEL', hood .. ':lift')
      redis.call('SETRANGE', n, offset.lift, string.rep('0', 10))
    end
    if metric ~= 'lift' or bans_known then
      each_slice(e[4], function(members) redis.call('PFADD', k, unpack(members)) end)
      redis.call('SETRANGE', n, offset[metric], string.format('%010d', redis.call('PFCOUNT', k)))
      if hot_at > (tonumber(redis.call('GETRANGE', n, HOT, HOT + 9)) or 0) then
        redis.call('SETRANGE', n, HOT, string.format('%010d', hot_at))
      end
      redis.call('EXPIRE', k, recent)
      redis.call('EXPIRE', n, recent)
    end
  else
    -- ['r', counter, accounts registered]
    local counter, seen, added = e[2], e[2] .. ':seen', 0
    -- The counter first: on a cluster, while its slot moves, a node refuses a key it no longer
    -- holds, and the counter must not stay behind a set that already counts the accounts.
    redis.call('EXISTS', counter)
    each_slice(e[3], function(members)
      added = added + redis.call('SADD', seen, unpack(members))
    end)
    redis.call('EXPIRE', seen, redelivery)
    if added > 0 then
      redis.call('INCRBY', counter, added)
      redis.call('EXPIRE', counter, burst)
    end
  end
end

if read_mode ~= 'get' then return {} end
local values = {}
for i = 6, #ARGV do values[#values + 1] = redis.call('GET', ARGV[i]) end
return values
"""
_SCRIPT_SHA = hashlib.sha1(_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


def _hood(kind: str, key: str) -> str:
    """The stem of a neighbourhood's keys."""
    return f"{PREFIX}:{{{kind}:{key}}}"


def _counter(kind: str, hour: int, key: str) -> str:
    """A registration counter's key."""
    return f"{PREFIX}:{{regs:{kind}:{hour}:{key}}}"


class _Batch:
    """What one script call adds."""

    def __init__(self) -> None:
        # (kind, id, metric) -> members, and the latest observation of a ban or report among them
        self.adds: dict[tuple[str, str, str], list[str]] = {}
        self.hot_at: dict[tuple[str, str, str], int] = {}
        self.registrations: dict[str, list[str]] = {}

    def add(self, kind: str, key: str, metric: str, member: str, *, hot_at: int = 0) -> None:
        entry = (kind, key, metric)
        self.adds.setdefault(entry, []).append(member)
        if hot_at and hot_at > self.hot_at.get(entry, 0):  # registrations carry no time
            self.hot_at[entry] = hot_at

    def register(self, account_id: str, network: str, device: str, hour: int) -> None:
        self.add("network", network, "acc", account_id)
        self.add("device", device, "acc", account_id)
        for kind, key in (("network", network), ("device", device)):
            self.registrations.setdefault(_counter(kind, hour, key), []).append(account_id)

    def entries(self) -> list[tuple[str, Any]]:
        """Each write with a key of its slot."""
        out: list[tuple[str, Any]] = []
        for (kind, key, metric), members in self.adds.items():
            hood, hot_at = _hood(kind, key), self.hot_at.get((kind, key, metric), 0)
            out.append((hood, ["n", hood, metric, members, hot_at]))
        out.extend((c, ["r", c, members]) for c, members in self.registrations.items())
        return out


class RedisNeighbourStore:
    def __init__(self, client: redis.Redis | RedisCluster) -> None:
        self._placement: Placement = (
            ClusterPrimaries(client) if isinstance(client, RedisCluster) else OneRedis(client)
        )

    def observe(self, records: Sequence[AccountSignals], stage: DetectionPoint) -> None:
        batch = _Batch()
        _add_observations(batch, records, stage)
        self._run(batch, [])

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        batch = _Batch()
        for r in records:
            at = seconds(r.observed_at)
            for kind, key in zip(KINDS, neighbourhoods(r), strict=True):
                batch.add(kind, key, "ban", r.account_id, hot_at=at)
        self._run(batch, [])

    def forget_bans(self, records: Sequence[AccountSignals]) -> None:
        # A sketch cannot remove a member: overturned bans go into a sketch of their own
        # ("lift"), which reads subtract from the bans.
        batch = _Batch()
        for r in records:
            for kind, key in zip(KINDS, neighbourhoods(r), strict=True):
                batch.add(kind, key, "lift", r.account_id)
        self._run(batch, [])

    def lookup(self, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        return self._lookup(_Batch(), records)

    def observe_and_lookup(
        self, records: Sequence[AccountSignals], stage: DetectionPoint
    ) -> npt.NDArray[np.float32]:
        batch = _Batch()
        _add_observations(batch, records, stage)
        return self._lookup(batch, records)

    def _lookup(self, batch: _Batch, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        """Run ``batch``'s writes, then read the rows of ``records``: one round trip."""
        n = len(records)
        out = np.zeros((n, len(NEIGHBOUR_FEATURES)), dtype=np.float32)
        if not n:
            self._run(batch, [])
            return out
        columns = tuple(list(column) for column in zip(*map(neighbourhoods, records), strict=True))
        observed, registered = times(records)
        # Four counters per record: its network and device, in its hour and the hour before;
        # none for a record observed too long after registering to have burst figures (they
        # are missing for it whatever the counters say), which messaging records often are.
        known = np.flatnonzero(burst_known(observed, registered)).tolist()
        hours = hour_buckets(registered).tolist()
        counters = [
            _counter(kind, hours[i] + delta, column[i])
            for kind, column in (("network", columns[1]), ("device", columns[2]))
            for delta in (-1, 0)
            for i in known
        ]
        hoods = [(k, key) for k, column in enumerate(columns) for key in dict.fromkeys(column)]
        counts_keys = [f"{_hood(KINDS[k], key)}:n" for k, key in hoods]
        values = self._run(batch, counters + counts_keys)
        regs, counts = values[: len(counters)], values[len(counters) :]

        out[:, BURST_COLUMNS] = np.nan
        if known:
            per_record = np.array([int(v) if v else 0 for v in regs], dtype=np.float32)
            per_record = per_record.reshape(4, len(known))
            out[known, 6] = per_record[0] + per_record[1]
            out[known, 7] = per_record[2] + per_record[3]
        # Only a neighbourhood with a ban or a report has rates; each record decides whether
        # its latest one is recent to it.
        heated = [(hoods[i], v) for i, v in enumerate(counts) if v is not None and len(v) > _HOT_AT]
        if heated:
            _fill_rates(out, recent_since(observed), columns, heated)
        return out

    def _run(self, batch: _Batch, reads: list[str]) -> list[bytes | None]:
        """Send ``batch``'s writes, if it has any, then read ``reads``."""
        writes = batch.entries()
        if not (writes or reads):
            return []
        args = [RECENT_TTL_SECONDS, BURST_TTL_SECONDS, REDELIVERY_SECONDS]
        return self._placement.run(_SCRIPT, _SCRIPT_SHA, args, writes, reads)


def workers_store() -> RedisNeighbourStore:
    """The store the workers count in: a person's ban or lifted ban, taken on the command line
    or in the console, counts in the same neighbourhoods as the workers' own."""
    return RedisNeighbourStore(get_counters_redis())


_COUNT_DIGITS = 10
_PLACES = 10 ** np.arange(_COUNT_DIGITS - 1, -1, -1, dtype=np.int64)


_FIELDS = 5  # accounts, bans, reports, lifted bans, latest ban or report
# A counts key longer than this holds the time of a ban or a report.
_HOT_AT = 4 * _COUNT_DIGITS


def unpack_counts(values: Sequence[bytes | str | None]) -> npt.NDArray[np.float64]:
    """(accounts, banned, reported, latest ban or report) per neighbourhood from its fixed-width
    counts key: ten ASCII digits per field, or zero bytes for a field never written (or no key
    at all). Bans lifted on appeal are taken off the bans."""
    width = _FIELDS * _COUNT_DIGITS
    packed = b"".join(
        (v.encode() if isinstance(v, str) else v or b"").ljust(width, b"\0") for v in values
    )
    digits = np.frombuffer(packed, dtype=np.uint8).reshape(len(values), _FIELDS, _COUNT_DIGITS)
    digits = np.where(digits == 0, 0, digits.astype(np.int64) - ord("0"))
    counts = (digits @ _PLACES).astype(np.float64)
    counts[:, 1] = np.maximum(counts[:, 1] - counts[:, 3], 0.0)
    return counts[:, [0, 1, 2, 4]]


def _fill_rates(
    out: npt.NDArray[np.float32],
    since: npt.NDArray[np.int64],
    columns: tuple[list[str], ...],
    heated: list[tuple[tuple[int, str], bytes]],
) -> None:
    """Ban and report rates of the ``heated`` neighbourhoods ((kind index, id) and counts key),
    into every record whose ``since`` is before the neighbourhood's latest ban or report."""
    counts = unpack_counts([value for _, value in heated])
    banned, reported = rates(counts[:, 0], counts[:, 1], counts[:, 2])
    latest = counts[:, 3]
    for k, column in enumerate(columns):
        mine = {key: j for j, ((kind, key), _) in enumerate(heated) if kind == k}
        if mine:
            at = np.array([mine.get(key, -1) for key in column])
            use = at >= 0
            use[use] = latest[at[use]] > since[use]
            out[use, 2 * k] = banned[at[use]]
            out[use, 2 * k + 1] = reported[at[use]]


def _add_observations(
    batch: _Batch, records: Sequence[AccountSignals], stage: DetectionPoint
) -> None:
    registering = stage is DetectionPoint.REGISTRATION
    for r in records:
        reported = r.feedback is not None and r.feedback.reports > 0
        if not (registering or reported):
            continue
        block, network, device = neighbourhoods(r)
        if registering:
            batch.add("block", block, "acc", r.account_id)
            batch.register(r.account_id, network, device, hour_bucket(r.registration.registered_at))
        if reported:
            at = seconds(r.observed_at)
            for kind, key in zip(KINDS, (block, network, device), strict=True):
                batch.add(kind, key, "rep", r.account_id, hot_at=at)


# The sets that keep a redelivered registration from counting twice: the only keys whose values
# name an account (the sketches keep hashes of their members, and key names carry a number's
# block, a network id or a device id, never a whole number or an account id).
_SEEN_PATTERN = f"{PREFIX}:{{regs:*}}:seen"


def sets_naming(client: redis.Redis | RedisCluster, account_id: str) -> list[str]:
    """The registration sets that hold ``account_id`` (a subject's export)."""
    return [
        key.decode() if isinstance(key, bytes) else str(key)
        for key in client.scan_iter(match=_SEEN_PATTERN, count=1000)
        if client.sismember(key, account_id)
    ]


def forget_account(client: redis.Redis | RedisCluster, account_id: str) -> int:
    """Remove ``account_id`` from every registration set (a subject's erasure); how many sets
    held it. The counters it added to stay: a count names no one."""
    return sum(int(client.srem(key, account_id)) for key in sets_naming(client, account_id))
