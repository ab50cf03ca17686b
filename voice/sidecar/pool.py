"""A pool of PersonaPlex sidecars, one call per sidecar, leased in Redis.

A PersonaPlex server serves one conversation at a time and queues any other caller in silence, so
every call leases a sidecar URL before connecting. The lease is a Redis key with an expiry,
renewed while the call lives, so several ASGI processes share the pool and a crashed process frees
its sidecars when the lease expires. A renewal takes a lease back that vanished with a restarted
Redis, unless another call took the sidecar meanwhile.

A released lease leaves a token in a list that calls waiting for a sidecar block on
(`wait_for_release`), so a waiting call, in any process, tries again at once, not at the end of
its backoff.
"""

import asyncio
import logging
import random
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

LEASE_PREFIX = "nexus:sidecar-lease:"
RELEASED_KEY = "nexus:sidecar-released"  # a token per released lease, for waiting calls
# Delete the lease only if it is still ours (it may have expired and been taken by another call),
# and leave a token for a waiting call; the token list holds at most one per sidecar.
_RELEASE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
redis.call('lpush', KEYS[2], '1')
redis.call('ltrim', KEYS[2], 0, tonumber(ARGV[2]) - 1)
redis.call('pexpire', KEYS[2], ARGV[3])
return 1
"""
# Extend the lease if it is ours, take it back if it is gone; 0 if another call holds it.
_RENEW = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not holder then return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0 end
return 0
"""


@dataclass(frozen=True)
class SidecarLease:
    """A sidecar held by one call (`holder`) until released, or until it expires unrenewed."""

    pool: "SidecarPool"
    url: str
    holder: str

    async def renew(self) -> bool:
        """Extend the lease; False if it was lost (expired and taken by someone else)."""
        return await self.pool.renew(self)

    async def release(self) -> None:
        await self.pool.release(self)


class SidecarPool:
    def __init__(self, redis: Redis, urls: list[str], *, ttl_seconds: float = 30) -> None:
        self.redis = redis
        self.urls = urls
        self.ttl_ms = int(ttl_seconds * 1000)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def lease(self, holder: str) -> SidecarLease | None:
        """Lease a free sidecar for `holder` (a call id), or None when all are busy."""
        for url in random.sample(self.urls, len(self.urls)):
            if await self.redis.set(LEASE_PREFIX + url, holder, nx=True, px=self.ttl_ms):
                return SidecarLease(self, url, holder)
        return None

    async def renew(self, lease: SidecarLease) -> bool:
        keys = [LEASE_PREFIX + lease.url]
        return bool(await self._renew(keys=keys, args=[lease.holder, self.ttl_ms]))

    async def release(self, lease: SidecarLease) -> None:
        """Free the sidecar at once; if Redis cannot be reached, the lease expires by itself."""
        keys = [LEASE_PREFIX + lease.url, RELEASED_KEY]
        try:
            await self._release(keys=keys, args=[lease.holder, len(self.urls), self.ttl_ms])
        except RedisError as error:
            logger.warning("sidecar lease on %s not released (%s): it expires", lease.url, error)

    async def wait_for_release(self, seconds: float) -> None:
        """Wait until a lease is released (by any process), or for `seconds` at the most."""
        try:
            # redis-py types its async and sync clients' commands as one: the await is right.
            await self.redis.blpop([RELEASED_KEY], max(seconds, 0.01))  # type: ignore[misc]
        except RedisError as error:
            logger.warning("waiting for a free sidecar without Redis (%s)", error)
            await asyncio.sleep(seconds)
