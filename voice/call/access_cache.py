"""The connect-time lookup of a widget key, cached in Redis and dropped when an admin saves.

A caller's handshake needs the key's tenant, persona, knowledge and tools: several queries. They
are cached per key with the tenant's "generation"; saving anything an agent is made of (persona,
knowledge, tools, widget keys, the tenant) bumps the generation, so the next call reads afresh,
in every process, with no restart. A lookup is stored with the generation read before its
queries, and a save bumps it twice, when saved and once committed: a lookup that read the rows
before the commit is never current. A cached lookup is read in one round trip, on the event loop
too. While Redis cannot be reached, handshakes read the database.
"""

import logging
import pickle
from collections.abc import Awaitable
from functools import partial
from typing import Any, cast

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from redis.exceptions import RedisError

from tenants_app.db import current_schema
from tenants_app.models import BusinessSettings, Tenant
from tools_registry.models import ToolEnablement
from voice.call.redis_clients import loop_redis, thread_redis
from voice.models import KnowledgeItem, Persona, WidgetKey

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3600

_GENERATION_KEY = ("nexus:agents:", ":generation")  # around the schema name

# The cached lookup, while the tenant's generation is still the one it was looked up in. The
# script reads a key it builds from the entry: one Redis server, not a cluster.
_CURRENT = """
local entry = redis.call('hmget', KEYS[1], 'schema', 'generation', 'value')
if not entry[3] then return false end
if (redis.call('get', ARGV[1] .. entry[1] .. ARGV[2]) or '0') ~= entry[2] then return false end
return entry[3]
"""


def _generation_key(schema_name: str) -> str:
    return schema_name.join(_GENERATION_KEY)


def _entry_key(key: str) -> str:
    return f"nexus:widget-key:{key}"


def agents_generation(schema_name: str) -> int | None:
    """The tenant's generation now, read before a lookup's queries; None: out of reach."""
    try:
        return int(thread_redis().get(_generation_key(schema_name)) or 0)  # type: ignore[arg-type]
    except RedisError as error:
        logger.warning("widget key cache unreachable (%s): not cached", error)
        return None


def cached_lookup(key: str) -> Any | None:
    """The cached lookup of `key`, or None when absent, stale or out of reach."""
    try:
        value = thread_redis().eval(_CURRENT, 1, _entry_key(key), *_GENERATION_KEY)
    except RedisError as error:
        logger.warning("widget key cache unreachable (%s): reading the database", error)
        return None
    return None if value is None else pickle.loads(cast(bytes, value))


async def cached_lookup_on_loop(key: str) -> Any | None:
    """`cached_lookup` in one round trip on the event loop, with no hop to the DB thread."""
    try:
        current = loop_redis().eval(_CURRENT, 1, _entry_key(key), *_GENERATION_KEY)
        value = await cast(Awaitable[bytes | None], current)
    except RedisError as error:
        logger.warning("widget key cache unreachable (%s): reading the database", error)
        return None
    return None if value is None else pickle.loads(value)


def cache_lookup(key: str, schema_name: str, generation: int, value: Any) -> None:
    """Keep `value`, looked up after the tenant's generation was `generation`."""
    entry = {"schema": schema_name, "generation": generation, "value": pickle.dumps(value)}
    try:
        with thread_redis().pipeline() as pipe:
            pipe.hset(_entry_key(key), mapping=entry)
            pipe.expire(_entry_key(key), TIMEOUT_SECONDS)
            pipe.execute()
    except RedisError as error:
        logger.warning("widget key cache unreachable (%s): not cached", error)


def _bump(schema_name: str) -> None:
    thread_redis().incr(_generation_key(schema_name))


def _bump_now_and_on_commit(schema_name: str) -> None:
    _bump(schema_name)
    transaction.on_commit(partial(_bump, schema_name))


@receiver([post_save, post_delete], sender=Persona)
@receiver([post_save, post_delete], sender=KnowledgeItem)
@receiver([post_save, post_delete], sender=ToolEnablement)
@receiver([post_save, post_delete], sender=WidgetKey)
def _agent_changed(sender, **kwargs) -> None:
    _bump_now_and_on_commit(current_schema())


@receiver([post_save, post_delete], sender=Tenant)
@receiver([post_save], sender=BusinessSettings)  # the tenant, as its own admin saves it
def _tenant_changed(sender, instance: Tenant, **kwargs) -> None:
    _bump_now_and_on_commit(instance.schema_name)
