"""Neighbourhood counters in Redis, shared by every scoring worker.

Distinct accounts are counted with HyperLogLogs (PFADD/PFCOUNT): adding the same account twice
changes nothing, so a redelivered batch does not inflate a rate, and each key costs at most 12 KB
however many accounts it sees. Every key expires after a quiet period, which is what makes the
rates "recent" and bounds the footprint by the number of active neighbourhoods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import orjson
import redis

from tasks.scoring.neighbours import (
    NEIGHBOUR_FEATURES,
    hour_bucket,
    neighbourhoods,
    registration_hours,
)
from tasks.scoring.signals import AccountSignals

PREFIX = "bulkguard:nb"
RECENT_SECONDS = 30 * 24 * 3600
# Registration-hour buckets must outlive the messaging and feedback stages that look back at them.
BURST_SECONDS = 8 * 24 * 3600


# Each operation is one Lua script call per batch, its input one JSON argument and its output
# one JSON string: the per-command and per-argument costs of a client (tens of microseconds and
# several microseconds) would otherwise dominate a 1,000-account batch. The keys are built inside
# the script, so this assumes one Redis, not a cluster, as the rest of bulkguard does.
_COMMON = """
local p = ARGV[1]
local function key(kind, id, metric) return p .. ':' .. kind .. ':' .. id .. ':' .. metric end
"""
_OBSERVE = (
    _COMMON
    + """
local recent, burst = tonumber(ARGV[2]), tonumber(ARGV[3])
local function add(k, member, ttl) redis.call('PFADD', k, member); redis.call('EXPIRE', k, ttl) end
for _, r in ipairs(cjson.decode(ARGV[4])) do
  local account, hour, reported = r[1], r[5], r[6]
  local ids = {block = r[2], network = r[3], device = r[4]}
  for _, kind in ipairs({'block', 'network', 'device'}) do
    add(key(kind, ids[kind], 'acc'), account, recent)
    if reported == 1 then add(key(kind, ids[kind], 'rep'), account, recent) end
    if kind ~= 'block' then add(key(kind, ids[kind], 'reg:' .. hour), account, burst) end
  end
end
return 0
"""
)
_BANS = (
    _COMMON
    + """
local recent = tonumber(ARGV[2])
for _, r in ipairs(cjson.decode(ARGV[3])) do
  local ids = {block = r[2], network = r[3], device = r[4]}
  for _, kind in ipairs({'block', 'network', 'device'}) do
    local k = key(kind, ids[kind], 'ban')
    redis.call('PFADD', k, r[1]); redis.call('EXPIRE', k, recent)
  end
end
return 0
"""
)
_LOOKUP = (
    _COMMON
    + """
local memo, out = {}, {}
local function count(k)
  local n = memo[k]
  if n == nil then
    n = redis.call('PFCOUNT', k)
    memo[k] = n
  end
  return n
end
for _, r in ipairs(cjson.decode(ARGV[2])) do
  local ids, hour = {block = r[1], network = r[2], device = r[3]}, r[4]
  for _, kind in ipairs({'block', 'network', 'device'}) do
    for _, metric in ipairs({'acc', 'ban', 'rep'}) do
      out[#out + 1] = count(key(kind, ids[kind], metric))
    end
  end
  for _, kind in ipairs({'network', 'device'}) do
    -- An account registers in exactly one hour, so the two hours' sets are disjoint and their
    -- sum is their union: two cached single-key counts instead of a multi-key PFCOUNT, which
    -- merges into a full 16,384-register sketch every time.
    local before, now = 'reg:' .. (hour - 1), 'reg:' .. hour
    out[#out + 1] = count(key(kind, ids[kind], before)) + count(key(kind, ids[kind], now))
  end
end
return cjson.encode(out)
"""
)
# Counts per record returned by _LOOKUP: acc, ban, rep for block, network and device, then the
# registration bursts of network and device.
_PER_RECORD = 11


class RedisNeighbourStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._observe = client.register_script(_OBSERVE)
        self._bans = client.register_script(_BANS)
        self._lookup = client.register_script(_LOOKUP)

    def observe(self, records: Sequence[AccountSignals]) -> None:
        if not records:
            return
        rows = [
            [
                r.account_id,
                *neighbourhoods(r),
                hour_bucket(r.registration.registered_at),
                int(r.feedback is not None and r.feedback.reports > 0),
            ]
            for r in records
        ]
        self._observe(args=[PREFIX, RECENT_SECONDS, BURST_SECONDS, orjson.dumps(rows)])

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        if not records:
            return
        rows = [[r.account_id, *neighbourhoods(r)] for r in records]
        self._bans(args=[PREFIX, RECENT_SECONDS, orjson.dumps(rows)])

    def lookup(self, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(records), len(NEIGHBOUR_FEATURES)), dtype=np.float32)
        if not records:
            return out
        rows = [[*neighbourhoods(r), registration_hours(r)[1]] for r in records]
        raw = self._lookup(args=[PREFIX, orjson.dumps(rows)])
        counts = np.array(orjson.loads(raw), dtype=np.float64).reshape(len(records), _PER_RECORD)
        accounts = counts[:, [0, 3, 6]]
        # rates(): a neighbourhood seen once says nothing yet.
        known = accounts > 1
        safe = np.where(known, accounts, 1.0)
        for k in range(3):
            out[:, 2 * k] = np.where(known[:, k], counts[:, 3 * k + 1] / safe[:, k], 0.0)
            out[:, 2 * k + 1] = np.where(known[:, k], counts[:, 3 * k + 2] / safe[:, k], 0.0)
        out[:, 6:8] = counts[:, 9:11]
        return out
