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

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import redis

from tasks.scoring.neighbourhoods.rules import (
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
from tasks.scoring.signals import AccountSignals, DetectionPoint

# The key layout's version is part of every key: a release that changes what a key holds moves
# to a new prefix, so its workers never misread keys written by the previous one (a count read as
# zero would inflate a rate); they start from an empty store while the old keys expire.
PREFIX = "bulkguard:nb:v2"
# How much later than the moment it describes a batch may be scored and still find its keys.
SLACK_SECONDS = 24 * 3600
RECENT_TTL_SECONDS = RECENT_SECONDS + SLACK_SECONDS
BURST_TTL_SECONDS = BURST_WINDOW_SECONDS + SLACK_SECONDS
# How long a registration is remembered so that a redelivered batch does not count it again.
REDELIVERY_SECONDS = 2 * 24 * 3600


# Writes go in one Lua script call per batch: its input is one JSON argument, since the
# per-command and per-argument costs of a client would otherwise dominate a 1,000-account batch.
# Keys are built inside the script, so this assumes one Redis, not a cluster, as the rest of
# bulkguard does. Reads are plain commands (ZMSCORE, MGET) sent in the same pipeline, after
# the script: Lua 5.1 is several times slower than the client at building a batch's thousands
# of key names, and nothing about a read needs to run inside Redis.
#
# Reads, for every record:
# * Most neighbourhoods never see a ban or a report, and their rates are then 0 whatever their
#   size. A sorted set per kind ("hot:block", ...) names the neighbourhoods with a ban or a
#   report, scored by the latest observation time of one (ZADD GT: batches land in any order):
#   one ZMSCORE per kind answers for a whole batch, and a neighbourhood is hot for a record if
#   that time is within the recent window of the record's own observation. The three sketch
#   counts of each hot neighbourhood, kept by the writes in one fixed-width key beside its
#   sketches ("<kind>:<id>:n", ten digits each for acc, ban and rep), come in a second round
#   trip: one MGET for the batch, one key per neighbourhood. Entries a window behind a batch's
#   oldest record are trimmed.
# * Registrations per network and device are plain counters, one key per kind, hour and id,
#   read for a whole batch with MGET. (Counters in hashes per hour or per day cost more: most
#   such hashes are small, and Redis keeps small hashes as lists that every field lookup scans.
#   Counting each registration in its hour's key and the next's would halve these reads, for
#   twice the counters in memory and twice the writes.) They go up only for an account not yet
#   in the set of the day's registered accounts, so a redelivered registration is not counted
#   twice; that set is kept for REDELIVERY_SECONDS only, which bounds it by two days of
#   registrations.
_SCRIPT = """
local p, recent, burst = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local redelivery, trim, batch = tonumber(ARGV[4]), tonumber(ARGV[5]), cjson.decode(ARGV[6])
local kinds = {'block', 'network', 'device'}
-- Lua's unpack is limited to a few thousand values: every variadic call goes in slices.
local function each_slice(items, fn)
  for i = 1, #items, 1000 do fn({unpack(items, i, math.min(i + 999, #items))}) end
end
local expiring = {}

-- adds: [kind, id, metric 'acc' | 'ban' | 'rep' | 'lift', members]
-- The three sketches' counts are kept in one key per neighbourhood ('<kind>:<id>:n'), ten
-- digits each at fixed offsets, so that reads, most of the traffic, fetch a batch's hot
-- neighbourhoods with one MGET of one key each instead of a PFCOUNT per sketch. A field never
-- written reads as zero bytes.
local offset = {acc = 0, ban = 10, rep = 20, lift = 30}
-- Lifted bans (overturned on appeal) are a sketch of their own that reads subtract from the
-- bans. It must describe the same bans: a lift whose neighbourhood's bans have expired lifts
-- nothing, and a ban sketch started afresh starts with no lifts.
for _, a in ipairs(batch.adds) do
  local hood = p .. ':' .. a[1] .. ':' .. a[2]
  local k = hood .. ':' .. a[3]
  local bans_known = redis.call('EXISTS', hood .. ':ban') == 1
  if a[3] == 'ban' and not bans_known then
    redis.call('DEL', hood .. ':lift')
    redis.call('SETRANGE', hood .. ':n', offset.lift, string.rep('0', 10))
  end
  if a[3] ~= 'lift' or bans_known then
    each_slice(a[4], function(members) redis.call('PFADD', k, unpack(members)) end)
    local count = string.format('%010d', redis.call('PFCOUNT', k))
    redis.call('SETRANGE', hood .. ':n', offset[a[3]], count)
    expiring[k], expiring[hood .. ':n'] = recent, recent
  end
end
-- registrations: [account, day, counters 'kind:hour:id']
for _, r in ipairs(batch.registrations) do
  local seen = p .. ':registered:' .. r[2]
  expiring[seen] = redelivery
  if redis.call('SADD', seen, r[1]) == 1 then
    for _, counter in ipairs(r[3]) do
      local k = p .. ':regs:' .. counter
      redis.call('INCR', k)
      expiring[k] = burst
    end
  end
end
for k, ttl in pairs(expiring) do redis.call('EXPIRE', k, ttl) end
-- heat: per kind, [id, observation time] of neighbourhoods with a ban or a report
for k, events in ipairs(batch.heat) do
  if #events > 0 then
    local hot = p .. ':hot:' .. kinds[k]
    each_slice(events, function(part)
      local args = {'GT'}
      for _, e in ipairs(part) do args[#args + 1] = e[2]; args[#args + 1] = e[1] end
      redis.call('ZADD', hot, unpack(args))
    end)
    redis.call('ZREMRANGEBYSCORE', hot, '-inf', '(' .. trim)
    redis.call('EXPIRE', hot, recent)
  end
end

return 0
"""


def _counter(kind: str, hour: int, key: str) -> str:
    """The name of a registration counter under ``PREFIX:regs:``, as writes and reads use it."""
    return f"{kind}:{hour}:{key}"


class _Batch:
    """What one script call adds."""

    def __init__(self) -> None:
        self.adds: dict[tuple[str, str, str], list[str]] = {}
        self.registrations: list[tuple[str, int, tuple[str, str]]] = []
        # Per kind: neighbourhood id -> latest observation time of a ban or report in it.
        self.heat: tuple[dict[str, int], ...] = tuple({} for _ in KINDS)

    def add(self, kind: str, key: str, metric: str, member: str) -> None:
        self.adds.setdefault((kind, key, metric), []).append(member)

    def warm(self, kind: str, key: str, record: AccountSignals) -> None:
        """A ban or a report of ``record`` in neighbourhood (kind, key)."""
        heat, at = self.heat[KINDS.index(kind)], seconds(record.observed_at)
        heat[key] = max(heat.get(key, at), at)

    def register(self, account_id: str, network: str, device: str, hour: int) -> None:
        self.add("network", network, "acc", account_id)
        self.add("device", device, "acc", account_id)
        counters = (_counter("network", hour, network), _counter("device", hour, device))
        self.registrations.append((account_id, hour // 24, counters))

    def payload(self) -> bytes:
        return orjson.dumps(
            {
                "adds": [[*hood, members] for hood, members in self.adds.items()],
                "registrations": self.registrations,
                "heat": [list(heat.items()) for heat in self.heat],
            }
        )


class RedisNeighbourStore:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._script = client.register_script(_SCRIPT)

    def observe(self, records: Sequence[AccountSignals], stage: DetectionPoint) -> None:
        if records:
            batch = _Batch()
            _add_observations(batch, records, stage)
            self._run(batch, min(seconds(r.observed_at) for r in records))

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        if records:
            batch = _Batch()
            for r in records:
                for kind, key in zip(KINDS, neighbourhoods(r), strict=True):
                    batch.add(kind, key, "ban", r.account_id)
                    batch.warm(kind, key, r)
            self._run(batch, min(seconds(r.observed_at) for r in records))

    def forget_bans(self, records: Sequence[AccountSignals]) -> None:
        # A sketch cannot remove a member: overturned bans go into a sketch of their own
        # ("lift"), which reads subtract from the bans.
        if records:
            batch = _Batch()
            for r in records:
                for kind, key in zip(KINDS, neighbourhoods(r), strict=True):
                    batch.add(kind, key, "lift", r.account_id)
            self._run(batch, min(seconds(r.observed_at) for r in records))

    def lookup(self, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        return self._lookup(_Batch(), records)

    def observe_and_lookup(
        self, records: Sequence[AccountSignals], stage: DetectionPoint
    ) -> npt.NDArray[np.float32]:
        batch = _Batch()
        _add_observations(batch, records, stage)
        return self._lookup(batch, records)

    def _lookup(self, batch: _Batch, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        """Run ``batch``'s writes, then read the rows of ``records``: one round trip, and a
        second only when some neighbourhood of the batch is hot."""
        n = len(records)
        out = np.zeros((n, len(NEIGHBOUR_FEATURES)), dtype=np.float32)
        if not n:
            return out
        columns = tuple(list(column) for column in zip(*map(neighbourhoods, records), strict=True))
        observed, registered = times(records)
        hours = hour_buckets(registered).tolist()
        # Four counters per record: its network and device, in its hour and the hour before.
        counters = [
            f"{PREFIX}:regs:{_counter(kind, hour + delta, key)}"
            for kind, column in (("network", columns[1]), ("device", columns[2]))
            for delta in (-1, 0)
            for hour, key in zip(hours, column, strict=True)
        ]
        distinct = [list(dict.fromkeys(column)) for column in columns]
        writes = self._arguments(batch, int(observed.min()))

        def send() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            if writes:
                # EVALSHA itself: redis-py's pipelined scripts cost a SCRIPT EXISTS round trip
                # each time, a tenth of a single-account registration's neighbourhood step.
                pipe.evalsha(self._script.sha, 0, *writes)
            for kind, ids in zip(KINDS, distinct, strict=True):
                pipe.zmscore(f"{PREFIX}:hot:{kind}", ids)
            pipe.mget(counters)
            return pipe.execute()

        try:
            replies = send()
        except redis.exceptions.NoScriptError:
            # Redis restarted or flushed its scripts; the script did not run, and the reads
            # after it are harmless to repeat.
            self._client.script_load(_SCRIPT)
            replies = send()
        *_, block_since, network_since, device_since, regs = replies

        per_record = np.array([int(v) if v else 0 for v in regs], dtype=np.float32)
        per_record = per_record.reshape(4, n)
        out[:, 6] = per_record[0] + per_record[1]
        out[:, 7] = per_record[2] + per_record[3]
        out[~burst_known(observed, registered), BURST_COLUMNS] = np.nan
        # Neighbourhoods that may be hot for some record of the batch; each record decides
        # for itself in _fill_rates.
        since = recent_since(observed)
        oldest = int(since.min())
        warm = [
            {key: at for key, at in zip(ids, last, strict=True) if at is not None and at > oldest}
            for ids, last in zip(distinct, (block_since, network_since, device_since), strict=True)
        ]
        if any(warm):
            self._fill_rates(out, since, columns, warm)
        return out

    def _fill_rates(
        self,
        out: npt.NDArray[np.float32],
        since: npt.NDArray[np.int64],
        columns: tuple[list[str], ...],
        warm: list[dict[str, float]],
    ) -> None:
        """Ban and report rates of the neighbourhoods in ``warm`` (per kind: id -> latest ban
        or report), into every record for which that latest one is after its ``since``."""
        hot = [(k, key) for k, last in enumerate(warm) for key in last]
        counts = unpack_counts(
            self._client.mget([f"{PREFIX}:{KINDS[k]}:{key}:n" for k, key in hot])
        )
        banned, reported = rates(counts[:, 0], counts[:, 1], counts[:, 2])
        latest = np.array([at for last in warm for at in last.values()], dtype=np.float64)
        first = 0
        for k, (column, last) in enumerate(zip(columns, warm, strict=True)):
            if last:
                index = {key: first + i for i, key in enumerate(last)}
                at = np.array([index.get(key, -1) for key in column])
                use = at >= 0
                use[use] = latest[at[use]] > since[use]
                out[use, 2 * k] = banned[at[use]]
                out[use, 2 * k + 1] = reported[at[use]]
                first += len(last)

    def _run(self, batch: _Batch, oldest: int) -> None:
        """Send ``batch``'s writes, if it has any."""
        writes = self._arguments(batch, oldest)
        if writes:
            self._script(args=writes)

    @staticmethod
    def _arguments(batch: _Batch, oldest: int) -> list[Any]:
        """The script's arguments for ``batch``'s writes, of records observed at ``oldest``
        or later; none if it has nothing to write."""
        if not (batch.adds or batch.registrations):
            return []
        return [
            PREFIX,
            RECENT_TTL_SECONDS,
            BURST_TTL_SECONDS,
            REDELIVERY_SECONDS,
            # Hot entries older than this are dropped: no record of the batch can find them
            # recent, nor can later batches, observed later. (Records dated in the future are
            # rejected at validation, so none can push today's hot neighbourhoods out.)
            oldest - RECENT_TTL_SECONDS,
            batch.payload(),
        ]


_COUNT_DIGITS = 10
_PLACES = 10 ** np.arange(_COUNT_DIGITS - 1, -1, -1, dtype=np.int64)


_FIELDS = 4  # accounts, bans, reports, lifted bans


def unpack_counts(values: Sequence[bytes | str | None]) -> npt.NDArray[np.float64]:
    """(accounts, banned, reported) per neighbourhood from its fixed-width counts key: ten
    ASCII digits per field, or zero bytes for a field never written (or no key at all). Bans
    lifted on appeal are taken off the bans."""
    width = _FIELDS * _COUNT_DIGITS
    packed = b"".join(
        (v.encode() if isinstance(v, str) else v or b"").ljust(width, b"\0") for v in values
    )
    digits = np.frombuffer(packed, dtype=np.uint8).reshape(len(values), _FIELDS, _COUNT_DIGITS)
    digits = np.where(digits == 0, 0, digits.astype(np.int64) - ord("0"))
    counts = (digits @ _PLACES).astype(np.float64)
    counts[:, 1] = np.maximum(counts[:, 1] - counts[:, 3], 0.0)
    return counts[:, :3]


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
            for kind, key in zip(KINDS, (block, network, device), strict=True):
                batch.add(kind, key, "rep", r.account_id)
                batch.warm(kind, key, r)
