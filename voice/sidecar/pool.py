"""A pool of PersonaPlex sidecars, one call per sidecar, leased in Redis.

A PersonaPlex server serves one conversation at a time and queues any other caller in silence, so
every call leases a sidecar URL before connecting. The lease is a Redis key with an expiry,
renewed while the call lives, so several ASGI processes share the pool and a crashed process
frees its sidecars when the lease expires.
"""

import random
from dataclasses import dataclass

from redis.asyncio import Redis

LEASE_PREFIX = "nexus:sidecar-lease:"
# Delete the lease only if it is still ours (it may have expired and been taken by another call).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


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
        await self._release(keys=[LEASE_PREFIX + lease.url], args=[lease.holder])
