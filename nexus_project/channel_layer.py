"""The channel layer: control events between processes (tool results, staff notices).

Audio never goes through it. Its `receive` rides out a Redis outage: a consumer waiting for
events (a live call) waits for Redis to come back instead of being torn down with the error.
"""

import asyncio
import logging
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_INITIAL_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0


def channel_layer() -> BaseChannelLayer:
    """The default channel layer, which the settings always configure."""
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured("CHANNEL_LAYERS has no default layer")
    return layer


class PatientRedisChannelLayer(RedisChannelLayer):
    """channels-redis' layer, whose `receive` waits for Redis when it cannot be reached."""

    async def receive(self, channel: str) -> dict[str, Any]:
        delay = RETRY_INITIAL_SECONDS
        while True:
            try:
                return await super().receive(channel)
            except (RedisError, OSError) as error:
                logger.warning("channel layer: Redis unreachable (%s); retrying", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
