"""Redis clients for the handshake's counters and cached lookups, kept for the process.

Django's cache runs each of its async calls on the shared DB thread (`sync_to_async`), where it
waits behind the queries of every call in progress. Coroutines use `loop_redis()` instead, on
the event loop itself; sync code (the DB thread, admin saves) uses `thread_redis()`. Each is made
for the current `REDIS_URL` (which tests change) and, the asyncio one, for the running loop.
"""

import asyncio

import redis
import redis.asyncio
from django.conf import settings

_loop_client: tuple[asyncio.AbstractEventLoop, str, redis.asyncio.Redis] | None = None
_thread_client: tuple[str, redis.Redis] | None = None


def loop_redis() -> redis.asyncio.Redis:
    """The running loop's client."""
    global _loop_client
    loop, url = asyncio.get_running_loop(), settings.REDIS_URL
    if _loop_client is None or _loop_client[0] is not loop or _loop_client[1] != url:
        _loop_client = (loop, url, redis.asyncio.Redis.from_url(url))
    return _loop_client[2]


def thread_redis() -> redis.Redis:
    """A client for sync code, in any thread (its pool is thread-safe)."""
    global _thread_client
    url = settings.REDIS_URL
    if _thread_client is None or _thread_client[0] != url:
        _thread_client = (url, redis.Redis.from_url(url))
    return _thread_client[1]
