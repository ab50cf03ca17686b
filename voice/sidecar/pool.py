"""A pool of PersonaPlex sidecars, each holding as many calls as it has sessions, leased in Redis.

A PersonaPlex server serves one conversation at a time and queues any other caller in silence, so
every call leases a session of a sidecar before connecting. An entry of the pool is the sidecar's
URL, with its capacity when it holds more than one conversation (servers such as vLLM-Omni's port
of PersonaPlex): `ws://gpu-1:8998#sessions=4`. Each session is a lease: a Redis key with an expiry,
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
import re
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


_CAPACITY = re.compile(r"#sessions=(?P<sessions>[1-9][0-9]{0,3})$")


@dataclass(frozen=True)
class SidecarEntry:
    """A sidecar of the pool: where it is, and how many conversations it holds at once."""

    url: str
    sessions: int = 1

    @classmethod
    def parse(cls, entry: str) -> "SidecarEntry":
        """`ws://host:8998` (one session) or `ws://host:8998#sessions=4`."""
        if "#" not in entry:
            return cls(entry)
        capacity = _CAPACITY.search(entry)
        if capacity is None:
            raise ValueError(f"a sidecar entry ends in '#sessions=N' (N from 1), not {entry!r}")
        return cls(entry[: capacity.start()], int(capacity["sessions"]))

    def lease_keys(self) -> list[str]:
        return [f"{LEASE_PREFIX}{self.url}#{session}" for session in range(self.sessions)]


@dataclass(frozen=True)
class SidecarLease:
    """A session of a sidecar held by one call (`holder`) until released, or until it expires
    unrenewed."""

    pool: "SidecarPool"
    url: str
    key: str
    holder: str

    async def renew(self) -> bool:
        """Extend the lease; False if it was lost (expired and taken by someone else)."""
        return await self.pool.renew(self)

    async def release(self) -> None:
        await self.pool.release(self)


class SidecarPool:
    def __init__(
        self, redis: Redis, entries: list[SidecarEntry], *, ttl_seconds: float = 30
    ) -> None:
        self.redis = redis
        self.entries = entries
        self.sessions = sum(entry.sessions for entry in entries)
        self.ttl_ms = int(ttl_seconds * 1000)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def lease(self, holder: str) -> SidecarLease | None:
        """Lease a free session for `holder` (a call id), or None when all are busy.

        Sidecars are tried in random order, so calls spread over them; within one, its
        sessions in order.
        """
        for entry in random.sample(self.entries, len(self.entries)):
            for key in entry.lease_keys():
                if await self.redis.set(key, holder, nx=True, px=self.ttl_ms):
                    return SidecarLease(self, entry.url, key, holder)
        return None

    async def renew(self, lease: SidecarLease) -> bool:
        return bool(await self._renew(keys=[lease.key], args=[lease.holder, self.ttl_ms]))

    async def release(self, lease: SidecarLease) -> None:
        """Free the session at once; if Redis cannot be reached, the lease expires by itself."""
        keys = [lease.key, RELEASED_KEY]
        try:
            await self._release(keys=keys, args=[lease.holder, self.sessions, self.ttl_ms])
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
