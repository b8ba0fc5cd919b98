"""Neighbourhood counters in Redis, shared by every scoring worker.

Distinct accounts are counted with HyperLogLogs (PFADD/PFCOUNT): adding the same account twice
changes nothing, so a redelivered batch does not inflate a rate, and each key costs at most 12 KB
however many accounts it sees. Every key expires after a quiet period, which is what makes the
rates "recent" and bounds the footprint by the number of active neighbourhoods. Only the
registration stage and reported accounts write; the messaging stage, which is most of the
traffic, only reads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import orjson
import redis

from tasks.scoring.neighbours import (
    KINDS,
    NEIGHBOUR_FEATURES,
    hour_bucket,
    neighbourhoods,
    rates,
)
from tasks.scoring.phones import phone_block
from tasks.scoring.signals import AccountSignals, Stage

PREFIX = "bulkguard:nb"
RECENT_SECONDS = 30 * 24 * 3600
# Registration-hour buckets must outlive the messaging and feedback stages that look back at them.
BURST_SECONDS = 8 * 24 * 3600
# How long a registration is remembered so that a redelivered batch does not count it again.
REDELIVERY_SECONDS = 2 * 24 * 3600


# One Lua script call per batch does the adding and the counting: its input is one JSON
# argument and its output one JSON string, since the per-command and per-argument costs of a
# client (tens of microseconds and several microseconds) would otherwise dominate a
# 1,000-account batch. The client sends columns (blocks, networks, devices, registration
# hours); the script builds the keys, each once per batch, and makes as few Redis calls as it
# can. Keys are built inside the script, so this assumes one Redis, not a cluster, as the rest
# of bulkguard does.
#
# Reads, for every record:
# * Most neighbourhoods never see a ban or a report, and their rates are then 0 whatever their
#   size. A sorted set ("hot") names the neighbourhoods with a ban or a report in the recent
#   window, scored by when they last had one: one ZMSCORE answers for a whole batch, and the
#   three sketches of a neighbourhood are counted only when it is hot.
# * Registrations per network and device are plain counters in one hash per hour, read with one
#   HMGET per hour. They go up only for an account not yet in the set of the day's registered
#   accounts, so a redelivered registration is not counted twice; that set is kept for
#   REDELIVERY_SECONDS only, which bounds it by two days of registrations.
_SCRIPT = """
local p, recent, burst = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local redelivery, now, batch = tonumber(ARGV[4]), tonumber(ARGV[5]), cjson.decode(ARGV[6])
local hot, kinds = p .. ':hot', {'block', 'network', 'device'}
-- Lua's unpack is limited to a few thousand values: every variadic call goes in slices.
local function each_slice(items, fn)
  for i = 1, #items, 1000 do fn({unpack(items, i, math.min(i + 999, #items))}) end
end
local expiring = {}

-- adds: [neighbourhood 'kind:id', metric 'acc' | 'rep' | 'ban', members]
for _, a in ipairs(batch.adds) do
  local k = p .. ':' .. a[1] .. ':' .. a[2]
  each_slice(a[3], function(members) redis.call('PFADD', k, unpack(members)) end)
  expiring[k] = recent
end
-- registrations: [account, day, hour, network, device]
for _, r in ipairs(batch.registrations) do
  local seen = p .. ':registered:' .. r[2]
  expiring[seen] = redelivery
  if redis.call('SADD', seen, r[1]) == 1 then
    local k = p .. ':regs:' .. r[3]
    redis.call('HINCRBY', k, 'network:' .. r[4], 1)
    redis.call('HINCRBY', k, 'device:' .. r[5], 1)
    expiring[k] = burst
  end
end
for k, ttl in pairs(expiring) do redis.call('EXPIRE', k, ttl) end
-- heat: neighbourhoods that just had a ban or a report
if #batch.heat > 0 then
  each_slice(batch.heat, function(hoods)
    local args = {}
    for _, h in ipairs(hoods) do args[#args + 1] = now; args[#args + 1] = h end
    redis.call('ZADD', hot, unpack(args))
  end)
  redis.call('ZREMRANGEBYSCORE', hot, '-inf', now - recent)
  redis.call('EXPIRE', hot, recent)
end

-- lookup: columns [blocks, networks, devices, registration hours], one entry per record
local found, regs = {}, {}
local columns = batch.lookup
if columns[1] then
  local n = #columns[1]
  -- Hot neighbourhoods: [record, kind, accounts, banned, reported], 0-based record and kind.
  local hoods, seen = {}, {}
  for i = 1, n do
    for k = 1, 3 do
      local h = kinds[k] .. ':' .. columns[k][i]
      if not seen[h] then seen[h] = true; hoods[#hoods + 1] = h end
    end
  end
  local counted = {}
  each_slice(hoods, function(part)
    local since = redis.call('ZMSCORE', hot, unpack(part))
    for j, h in ipairs(part) do
      if since[j] and tonumber(since[j]) > now - recent then
        local k = p .. ':' .. h
        counted[h] = {redis.call('PFCOUNT', k .. ':acc'), redis.call('PFCOUNT', k .. ':ban'),
          redis.call('PFCOUNT', k .. ':rep')}
      end
    end
  end)
  if next(counted) then
    for i = 1, n do
      for k = 1, 3 do
        local c = counted[kinds[k] .. ':' .. columns[k][i]]
        if c then found[#found + 1] = {i - 1, k - 1, c[1], c[2], c[3]} end
      end
    end
  end
  -- Registrations of each record's network and device in its hour and the hour before.
  local fields = {}
  for i = 1, n do
    local hour = columns[4][i]
    for h = hour - 1, hour do
      local want = fields[h] or {}
      fields[h] = want
      want['network:' .. columns[2][i]] = 0
      want['device:' .. columns[3][i]] = 0
    end
  end
  for h, want in pairs(fields) do
    local names = {}
    for f in pairs(want) do names[#names + 1] = f end
    each_slice(names, function(part)
      for j, v in ipairs(redis.call('HMGET', p .. ':regs:' .. h, unpack(part))) do
        want[part[j]] = tonumber(v) or 0
      end
    end)
  end
  for i = 1, n do
    local hour = columns[4][i]
    local before, own = fields[hour - 1], fields[hour]
    local network, device = 'network:' .. columns[2][i], 'device:' .. columns[3][i]
    regs[#regs + 1] = before[network] + own[network]
    regs[#regs + 1] = before[device] + own[device]
  end
end
return cjson.encode({found, regs})
"""


class _Batch:
    """What one script call adds and reads."""

    def __init__(self) -> None:
        self.adds: dict[tuple[str, str], list[str]] = {}
        self.registrations: list[tuple[str, int, int, str, str]] = []
        self.heat: dict[str, None] = {}
        self.lookup: list[list[str] | list[int]] = []

    def add(self, hood: str, metric: str, member: str) -> None:
        self.adds.setdefault((hood, metric), []).append(member)
        if metric in ("ban", "rep"):
            self.heat[hood] = None

    def register(self, account_id: str, network: str, device: str, hour: int) -> None:
        for hood in (f"network:{network}", f"device:{device}"):
            self.add(hood, "acc", account_id)
        self.registrations.append((account_id, hour // 24, hour, network, device))

    def payload(self) -> bytes:
        return orjson.dumps(
            {
                "adds": [[hood, metric, members] for (hood, metric), members in self.adds.items()],
                "registrations": self.registrations,
                "heat": list(self.heat),
                "lookup": self.lookup,
            }
        )


class RedisNeighbourStore:
    def __init__(self, client: redis.Redis) -> None:
        self._script = client.register_script(_SCRIPT)

    def observe(self, records: Sequence[AccountSignals], stage: Stage) -> None:
        if records:
            batch = _Batch()
            _add_observations(batch, records, stage)
            self._run(batch)

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        if records:
            batch = _Batch()
            for r in records:
                for kind, key in zip(KINDS, neighbourhoods(r), strict=True):
                    batch.add(f"{kind}:{key}", "ban", r.account_id)
            self._run(batch)

    def lookup(self, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        return self._lookup(_Batch(), records)

    def observe_and_lookup(
        self, records: Sequence[AccountSignals], stage: Stage
    ) -> npt.NDArray[np.float32]:
        batch = _Batch()
        _add_observations(batch, records, stage)
        return self._lookup(batch, records)

    def _lookup(self, batch: _Batch, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(records), len(NEIGHBOUR_FEATURES)), dtype=np.float32)
        if not records:
            return out
        registrations = [r.registration for r in records]
        batch.lookup = [
            [phone_block(r.phone) for r in records],
            [g.network_id for g in registrations],
            [g.device_id for g in registrations],
            [hour_bucket(g.registered_at) for g in registrations],
        ]
        found, regs = orjson.loads(self._run(batch))
        out[:, 6:8] = np.array(regs, dtype=np.float32).reshape(len(records), 2)
        if found:
            hot = np.array(found, dtype=np.float64)
            rows, kinds = hot[:, 0].astype(np.intp), hot[:, 1].astype(np.intp)
            banned, reported = rates(hot[:, 2], hot[:, 3], hot[:, 4])
            out[rows, 2 * kinds] = banned
            out[rows, 2 * kinds + 1] = reported
        return out

    def _run(self, batch: _Batch) -> bytes:
        raw: bytes = self._script(
            args=[
                PREFIX,
                RECENT_SECONDS,
                BURST_SECONDS,
                REDELIVERY_SECONDS,
                int(time.time()),
                batch.payload(),
            ]
        )
        return raw


def _add_observations(batch: _Batch, records: Sequence[AccountSignals], stage: Stage) -> None:
    registering = stage is Stage.REGISTRATION
    for r in records:
        reported = r.feedback is not None and r.feedback.reports > 0
        if not (registering or reported):
            continue
        block, network, device = neighbourhoods(r)
        if registering:
            batch.add(f"block:{block}", "acc", r.account_id)
            batch.register(r.account_id, network, device, hour_bucket(r.registration.registered_at))
        if reported:
            for hood in (f"block:{block}", f"network:{network}", f"device:{device}"):
                batch.add(hood, "rep", r.account_id)
