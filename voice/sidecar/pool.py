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


@dataclass
class SidecarLease:
    redis: Redis
    url: str
    holder: str
    ttl_ms: int

    @property
    def key(self) -> str:
        return LEASE_PREFIX + self.url

    async def renew(self) -> bool:
        """Extend the lease; False if it was lost (expired and taken by someone else)."""
        return bool(await self.redis.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms))

    async def release(self) -> None:
        await self.redis.eval(_RELEASE, 1, self.key, self.holder)


class SidecarPool:
    def __init__(self, redis: Redis, urls: list[str], *, ttl_seconds: float = 30) -> None:
        self.redis = redis
        self.urls = urls
        self.ttl_ms = int(ttl_seconds * 1000)

    async def lease(self, holder: str) -> SidecarLease | None:
        """Lease a free sidecar for `holder` (a call id), or None when all are busy."""
        for url in random.sample(self.urls, len(self.urls)):
            if await self.redis.set(LEASE_PREFIX + url, holder, nx=True, px=self.ttl_ms):
                return SidecarLease(self.redis, url, holder, self.ttl_ms)
        return None
