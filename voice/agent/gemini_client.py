"""The connection to Google Gemini shared by the agent and the speech-to-text: one SDK client.

google-genai speaks REST only (HTTPS + JSON, server-sent events for streaming; its async calls
go through aiohttp). Retries are the SDK's own (``HttpRetryOptions``, exponential backoff with
jitter on 408/429/5xx answers and dropped connections), set on the *client*: the SDK ignores
per-request retry options on async streams. ``timeout_seconds`` bounds each attempt.
See docs/gemini.md for the settings and the ``GEMINI_TRANSPORT`` mapping.
"""

import functools
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from google import genai
from google.genai import types

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "gemini-2.5-flash"
# Pinned: the SDK's default moved to "v1"; function calling with JSON-schema parameters and
# JSON-schema structured output are the v1beta surface this code is tested against.
API_VERSION = "v1beta"
TRANSPORTS = ("rest", "grpc")
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)


@dataclass(frozen=True)
class GeminiConfig:
    """How to reach Gemini; ``retries`` counts the attempts after the first one."""

    api_key: str
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    timeout_seconds: float = 20.0
    retries: int = 2
    backoff_seconds: float = 0.5  # the first retry's delay; it doubles, capped at 8x


class GeminiService:
    """Base of the Gemini providers: one SDK client, built from the same keyword settings."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_seconds: float = 20.0,
        retries: int = 2,
        backoff_seconds: float = 0.5,
    ) -> None:
        self.model = model
        config = GeminiConfig(api_key, model, base_url, timeout_seconds, retries, backoff_seconds)
        self._client = gemini_client(config)

    async def aclose(self) -> None:
        """Close the client's connections in this event loop (tests, shutdown)."""
        await self._client.aio.aclose()


def gemini_client(config: GeminiConfig) -> genai.Client:
    """A google-genai client with the config's base URL, per-attempt timeout and retries."""
    retry = types.HttpRetryOptions(
        attempts=config.retries + 1,
        initial_delay=config.backoff_seconds,
        max_delay=config.backoff_seconds * 8,
        jitter=config.backoff_seconds,
        http_status_codes=list(RETRY_STATUSES),
    )
    options = types.HttpOptions(
        base_url=config.base_url or None,
        api_version=API_VERSION,
        timeout=int(config.timeout_seconds * 1000),  # milliseconds
        retry_options=retry,
    )
    return genai.Client(api_key=config.api_key, http_options=options)


@functools.cache
def _warn_grpc_unsupported() -> None:
    logger.warning("GEMINI_TRANSPORT=grpc: the google-genai SDK has no gRPC transport; using REST")


def gemini_config_from_settings() -> GeminiConfig:
    """The GEMINI_* settings as a GeminiConfig; a missing key or unknown transport is an error."""
    transport = settings.GEMINI_TRANSPORT.strip().lower()
    if transport not in TRANSPORTS:
        raise ImproperlyConfigured(
            f"GEMINI_TRANSPORT is one of {', '.join(TRANSPORTS)}, not {transport!r}"
        )
    if transport == "grpc":
        _warn_grpc_unsupported()
    if not settings.GEMINI_API_KEY:
        raise ImproperlyConfigured("the gemini provider needs GEMINI_API_KEY")
    return GeminiConfig(
        api_key=settings.GEMINI_API_KEY,
        model=settings.GEMINI_MODEL,
        base_url=settings.GEMINI_BASE_URL or None,
        timeout_seconds=settings.GEMINI_TIMEOUT_SECONDS,
        retries=settings.GEMINI_RETRIES,
    )
