"""Limits per client address: its live calls per tenant, and its refused handshakes per minute.

Nobody with a public widget key may hold a tenant's lines, or try keys and origins at will. The
counters live in Redis (Django's cache), so they hold across ASGI processes, and expire by
themselves if a process dies holding one. They fail open: while Redis cannot be reached, nobody
is refused for want of a counter.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

REFUSED_WINDOW_SECONDS = 60


def _calls_key(schema_name: str, address: str) -> str:
    return f"nexus:client-calls:{schema_name}:{address}"


def _refused_key(address: str) -> str:
    return f"nexus:refused-handshakes:{address}"


async def refused_too_often(address: str) -> bool:
    """Whether `address` was refused more than the limit allows in the current window."""
    try:
        refused = await cache.aget(_refused_key(address), 0)
    except RedisError as error:
        logger.warning("refused handshakes not counted (%s)", error)
        return False
    return refused >= settings.NEXUS_REFUSED_HANDSHAKES_PER_MINUTE


async def refusal_count(address: str) -> None:
    """Count one refused handshake of `address` (the window starts at its first refusal)."""
    key = _refused_key(address)
    try:
        await cache.aadd(key, 0, REFUSED_WINDOW_SECONDS)
        await cache.aincr(key)
    except (RedisError, ValueError) as error:  # ValueError: the window closed meanwhile
        logger.warning("refused handshake not counted (%s)", error)


async def client_call_hold(*, schema_name: str, address: str, limit: int, ttl_seconds: int) -> bool:
    """Count a call of `address` to the tenant; False (and nothing counted) over `limit`."""
    key = _calls_key(schema_name, address)
    try:
        await cache.aadd(key, 0, ttl_seconds)
        if await cache.aincr(key) <= limit:
            await cache.atouch(key, ttl_seconds)  # outlives the longest call, then expires
            return True
        await cache.adecr(key)
    except (RedisError, ValueError) as error:
        logger.warning("calls per client not counted (%s)", error)
        return True
    return False


async def client_call_release(*, schema_name: str, address: str) -> None:
    try:
        await cache.adecr(_calls_key(schema_name, address))
    except (RedisError, ValueError) as error:  # ValueError: it expired meanwhile
        logger.warning("calls per client not counted down (%s)", error)
