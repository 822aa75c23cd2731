"""Guard state in Redis for several gateway replicas: reserve and settle are each one Lua
script, which Redis runs atomically, so no other replica's call can interleave.

Every key carries the hash tag `{costrail}` so a Redis Cluster keeps them on one shard (a
script may only touch keys of one slot). Times come from the caller, as in the SQLite store;
replicas should keep their clocks in NTP sync (a skew only shifts lease expiry and rate windows).
"""

from __future__ import annotations

from typing import Any

import redis

from costrail.guard.state import (
    RATE_WINDOW_S,
    BucketState,
    BudgetBucket,
    Decision,
    RateCharge,
)

_PREFIX = "{costrail}:"

# KEYS: per bucket 3 keys (hash spent/reserved, zset id→expiry, hash id→amount), then rate keys.
# ARGV: n_buckets, reserve, now, lease, id, then per bucket (limit, ttl_ms),
#       then per rate (limit_per_min, amount).
_ADMIT = """
local n = tonumber(ARGV[1])
local reserve = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local id = ARGV[5]
local function expire(i)
  local b, z, a = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, rid in ipairs(gone) do
    local amount = tonumber(redis.call('HGET', a, rid) or '0')
    redis.call('HINCRBY', b, 'reserved', -amount)
    redis.call('HDEL', a, rid)
  end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
end
for i = 1, n do
  expire(i)
  local limit = tonumber(ARGV[4 + 2*i])
  local spent = tonumber(redis.call('HGET', KEYS[3*i-2], 'spent') or '0')
  local reserved = tonumber(redis.call('HGET', KEYS[3*i-2], 'reserved') or '0')
  if spent + reserved + reserve > limit then return {1, i, '0'} end
end
local base = 5 + 2*n
local new_tats = {}
for j = 1, #KEYS - 3*n do
  local key = KEYS[3*n + j]
  local limit = tonumber(ARGV[base + 2*j - 1])
  local amount = tonumber(ARGV[base + 2*j])
  local interval = 60.0 / limit
  local tat = tonumber(redis.call('GET', key) or tostring(now))
  if tat < now then tat = now end
  local new_tat = tat + amount * interval
  local excess = new_tat - now - 60.0
  if excess > 1e-3 then return {2, j, tostring(excess)} end
  new_tats[j] = new_tat
end
for i = 1, n do
  local b, z, a = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  redis.call('HINCRBY', b, 'reserved', reserve)
  redis.call('HSETNX', b, 'spent', 0)
  redis.call('ZADD', z, now + lease, id)
  redis.call('HSET', a, id, reserve)
  local ttl = tonumber(ARGV[5 + 2*i])
  redis.call('PEXPIRE', b, ttl)
  redis.call('PEXPIRE', z, ttl)
  redis.call('PEXPIRE', a, ttl)
end
for j, new_tat in pairs(new_tats) do
  redis.call('SET', KEYS[3*n + j], string.format('%.6f', new_tat), 'PX', 180000)
end
return {0, 0, '0'}
"""

# KEYS as for admit. ARGV: n_buckets, actual, id, then per bucket ttl_ms,
# then per rate (limit_per_min, refund).
_SETTLE = """
local n = tonumber(ARGV[1])
local actual = tonumber(ARGV[2])
local id = ARGV[3]
for i = 1, n do
  local b, z, a = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local held = tonumber(redis.call('HGET', a, id) or '0')
  redis.call('HDEL', a, id)
  redis.call('ZREM', z, id)
  redis.call('HINCRBY', b, 'reserved', -held)
  redis.call('HINCRBY', b, 'spent', actual)
  redis.call('PEXPIRE', b, tonumber(ARGV[3 + i]))
end
local base = 3 + n
for j = 1, #KEYS - 3*n do
  local key = KEYS[3*n + j]
  local tat = redis.call('GET', key)
  if tat then
    local interval = 60.0 / tonumber(ARGV[base + 2*j - 1])
    local back = tonumber(tat) - tonumber(ARGV[base + 2*j]) * interval
    redis.call('SET', key, string.format('%.6f', back), 'KEEPTTL')
  end
end
return 0
"""


class RedisStore:
    """State shared by every replica pointed at the same Redis (`guard.store.url`)."""

    def __init__(self, url: str) -> None:
        self._redis: Any = redis.Redis.from_url(url)
        self._admit = self._redis.register_script(_ADMIT)
        self._settle = self._redis.register_script(_SETTLE)

    def admit(
        self,
        reservation_id: str,
        buckets: list[BudgetBucket],
        reserve_nano: int,
        rates: list[RateCharge],
        now_s: float,
        lease_s: float,
    ) -> Decision:
        keys = _bucket_keys(buckets) + [_PREFIX + "rate:" + charge.key for charge in rates]
        args: list[Any] = [len(buckets), reserve_nano, repr(now_s), repr(lease_s), reservation_id]
        for bucket in buckets:
            args += [bucket.limit_nano, _ttl_ms(bucket, now_s)]
        for charge in rates:
            args += [charge.limit_per_min, charge.amount]
        outcome, index, retry = self._admit(keys=keys, args=args)
        if outcome == 0:
            return Decision(True)
        if outcome == 1:
            return Decision(False, "budget", buckets[int(index) - 1].key)
        return Decision(False, "rate", rates[int(index) - 1].key, float(retry))

    def settle(
        self,
        reservation_id: str,
        buckets: list[BudgetBucket],
        actual_nano: int,
        refunds: list[RateCharge],
        now_s: float,
    ) -> None:
        keys = _bucket_keys(buckets) + [_PREFIX + "rate:" + charge.key for charge in refunds]
        args: list[Any] = [len(buckets), actual_nano, reservation_id]
        args += [_ttl_ms(bucket, now_s) for bucket in buckets]
        for refund in refunds:
            args += [refund.limit_per_min, refund.amount]
        self._settle(keys=keys, args=args)

    def bucket(self, key: str, now_s: float) -> BucketState:
        fields = self._redis.hmget(_PREFIX + "b:" + key, "spent", "reserved")
        expired = self._redis.zrangebyscore(_PREFIX + "z:" + key, "-inf", now_s)
        held = self._redis.hmget(_PREFIX + "a:" + key, *expired) if expired else []
        stale_nano = sum(int(value or 0) for value in held)
        return BucketState(int(fields[0] or 0), int(fields[1] or 0) - stale_nano)

    def close(self) -> None:
        self._redis.close()


def _ttl_ms(bucket: BudgetBucket, now_s: float) -> int:
    """Time to keep a bucket, relative (PEXPIRE), so a skewed clock cannot expire it early."""
    return max(86_400_000, int((bucket.forget_at_s - now_s) * 1000))


def _bucket_keys(buckets: list[BudgetBucket]) -> list[str]:
    keys: list[str] = []
    for bucket in buckets:
        keys += [_PREFIX + "b:" + bucket.key, _PREFIX + "z:" + bucket.key]
        keys.append(_PREFIX + "a:" + bucket.key)
    return keys


__all__ = ["RATE_WINDOW_S", "RedisStore"]
