"""The connect-time lookup of a widget key, cached in Redis and dropped when an admin saves.

A caller's handshake needs the key's tenant, persona, knowledge and tools: five queries. They are
cached per key with the tenant's "generation"; saving anything an agent is made of (persona,
knowledge, tools, widget keys, the tenant) bumps the generation, so the next call reads afresh,
in every process, with no restart. While Redis cannot be reached, handshakes read the database.
"""

import logging

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from redis.exceptions import RedisError

from tenants_app.db import current_schema
from tenants_app.models import BusinessSettings, Tenant
from tools_registry.models import ToolEnablement
from voice.models import KnowledgeItem, Persona, WidgetKey

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3600


def _generation_key(schema_name: str) -> str:
    return f"nexus:agents:{schema_name}:generation"


def _generation(schema_name: str) -> int:
    return cache.get(_generation_key(schema_name), 0)


def cached_lookup(key: str):
    """The cached lookup of `key`, or None when absent, stale or out of reach."""
    try:
        entry = cache.get(f"nexus:widget-key:{key}")
        if entry is None:
            return None
        schema_name, generation, value = entry
        return value if generation == _generation(schema_name) else None
    except RedisError as error:
        logger.warning("widget key cache unreachable (%s): reading the database", error)
        return None


def cache_lookup(key: str, schema_name: str, value) -> None:
    try:
        entry = (schema_name, _generation(schema_name), value)
        cache.set(f"nexus:widget-key:{key}", entry, TIMEOUT_SECONDS)
    except RedisError as error:
        logger.warning("widget key cache unreachable (%s): not cached", error)


def _bump(schema_name: str) -> None:
    generation_key = _generation_key(schema_name)
    cache.add(generation_key, 0, None)
    cache.incr(generation_key)


@receiver([post_save, post_delete], sender=Persona)
@receiver([post_save, post_delete], sender=KnowledgeItem)
@receiver([post_save, post_delete], sender=ToolEnablement)
@receiver([post_save, post_delete], sender=WidgetKey)
def _agent_changed(sender, **kwargs) -> None:
    _bump(current_schema())


@receiver([post_save, post_delete], sender=Tenant)
@receiver([post_save], sender=BusinessSettings)  # the tenant, as its own admin saves it
def _tenant_changed(sender, instance: Tenant, **kwargs) -> None:
    _bump(instance.schema_name)
