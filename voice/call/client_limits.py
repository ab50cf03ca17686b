"""Limits per client address: its live calls per tenant, and its refused handshakes per minute.

Nobody with a public widget key may hold a tenant's lines, or try keys and origins at will. The
counters live in Redis, so they hold across ASGI processes, and expire by themselves if a process
dies holding one; each is read or changed in one round trip, on the event loop (`redis_clients`).
They fail open: while Redis cannot be reached, nobody is refused for want of a counter.
"""

import logging
from collections.abc import Awaitable
from typing import cast

from django.conf import settings
from redis.exceptions import RedisError

from voice.call.redis_clients import loop_redis

logger = logging.getLogger(__name__)

REFUSED_WINDOW_SECONDS = 60

# Count a call in, unless that makes more than the limit; it outlives the longest call by its TTL.
_HOLD = """
if redis.call('incr', KEYS[1]) <= tonumber(ARGV[1]) then
  redis.call('expire', KEYS[1], ARGV[2])
  return 1
end
if redis.call('decr', KEYS[1]) <= 0 then redis.call('del', KEYS[1]) end
return 0
"""
# Count a call out, unless its count expired meanwhile.
_RELEASE = """
if redis.call('exists', KEYS[1]) == 1 then redis.call('decr', KEYS[1]) end
"""


def _calls_key(schema_name: str, address: str) -> str:
    return f"nexus:client-calls:{schema_name}:{address}"


def _refused_key(address: str) -> str:
    return f"nexus:refused-handshakes:{address}"


async def refused_too_often(address: str) -> bool:
    """Whether `address` was refused more than the limit allows in the current window."""
    try:
        refused = await loop_redis().get(_refused_key(address))
    except RedisError as error:
        logger.warning("refused handshakes not counted (%s)", error)
        return False
    return int(refused or 0) >= settings.NEXUS_REFUSED_HANDSHAKES_PER_MINUTE


async def refusal_count(address: str) -> None:
    """Count one refused handshake of `address` (the window starts at its first refusal)."""
    key = _refused_key(address)
    try:
        async with loop_redis().pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=REFUSED_WINDOW_SECONDS, nx=True)
            pipe.incr(key)
            await pipe.execute()
    except RedisError as error:
        logger.warning("refused handshake not counted (%s)", error)


async def client_call_hold(*, schema_name: str, address: str, limit: int, ttl_seconds: int) -> bool:
    """Count a call of `address` to the tenant; False (and nothing counted) over `limit`."""
    try:
        held = loop_redis().eval(_HOLD, 1, _calls_key(schema_name, address), limit, ttl_seconds)
        return bool(await cast(Awaitable[int], held))
    except RedisError as error:
        logger.warning("calls per client not counted (%s)", error)
        return True


async def client_call_release(*, schema_name: str, address: str) -> None:
    try:
        released = loop_redis().eval(_RELEASE, 1, _calls_key(schema_name, address))
        await cast(Awaitable[None], released)
    except RedisError as error:
        logger.warning("calls per client not counted down (%s)", error)
