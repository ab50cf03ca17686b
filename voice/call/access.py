"""Who may call which agent: resolving tenant and persona once, at the WebSocket handshake.

A widget key is found through its public route, so no tenant schema is ever scanned, and the
result is cached until an admin changes the agent (`access_cache`). A cached key is resolved on
the event loop (`call_access_cached`), anything else on the DB thread (`call_access_resolve`). An
admin "test call" names the persona and is let in by the tenant's own session.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest

from tenants_app.db import tenant_schema
from tenants_app.domains import BadDomain, domain_normalize
from tenants_app.models import Domain, Tenant, WidgetKeyRoute
from voice.call.access_cache import (
    agents_generation,
    cache_lookup,
    cached_lookup,
    cached_lookup_on_loop,
)
from voice.call.protocol import CallParams, CallRefused, CloseCode
from voice.models import Persona, WidgetKey
from voice.origins import origin_allowed
from voice.selectors import AgentSnapshot, agent_snapshot


@dataclass(frozen=True)
class CallAccess:
    tenant: Tenant
    agent: AgentSnapshot
    widget_key_id: int | None


@dataclass(frozen=True)
class _KeyLookup:
    """What an active key lets call, and from which origins, as read after `generation`."""

    access: CallAccess
    allowed_origins: list[str]
    generation: int | None


async def call_access_cached(*, params: CallParams, origin: str | None) -> CallAccess | None:
    """A widget key's access when its lookup is cached and current, read on the event loop with
    no hop to the DB thread (CallRefused for an origin it does not allow); None otherwise:
    `call_access_resolve` it."""
    if not params.key:
        return None
    lookup = await cached_lookup_on_loop(params.key)
    return None if lookup is None else _admitted(lookup, origin)


def call_access_resolve(
    *, params: CallParams, origin: str | None, host: str, session_key: str | None
) -> CallAccess:
    """The tenant and agent a connection may call, or CallRefused with the protocol's code."""
    if params.key:
        return _by_widget_key(params.key, origin)
    return _by_admin_session(params.agent or "", origin, host, session_key)


def _by_widget_key(key: str, origin: str | None) -> CallAccess:
    lookup: _KeyLookup | None = cached_lookup(key)
    if lookup is None:
        lookup = _widget_key_lookup(key)
        if lookup.generation is not None:
            cache_lookup(key, lookup.access.tenant.schema_name, lookup.generation, lookup)
    return _admitted(lookup, origin)


def _admitted(lookup: _KeyLookup, origin: str | None) -> CallAccess:
    if not origin_allowed(origin, lookup.allowed_origins):
        raise CallRefused(CloseCode.ORIGIN_NOT_ALLOWED, f"origin {origin!r} not allowed")
    return lookup.access


def _widget_key_lookup(key: str) -> _KeyLookup:
    """What an active key lets call; CallRefused otherwise. The tenant's generation is read
    first (its schema is the route's, which never changes), then every row the lookup is of."""
    route = WidgetKeyRoute.objects.filter(key=key).values_list("tenant__schema_name").first()
    if route is None:
        raise CallRefused(CloseCode.BAD_KEY, "unknown widget key")
    generation = agents_generation(route[0])
    tenant = Tenant.objects.get(schema_name=route[0])
    if not tenant.is_active:
        raise CallRefused(CloseCode.NOT_FOUND, "tenant is inactive")
    with tenant_schema(tenant.schema_name):
        widget_key = WidgetKey.objects.select_related("persona").filter(key=key).first()
        if widget_key is None or not widget_key.is_active:
            raise CallRefused(CloseCode.BAD_KEY, "widget key revoked")
        if not widget_key.persona.is_active:
            raise CallRefused(CloseCode.NOT_FOUND, "agent is inactive")
        agent = agent_snapshot(persona=widget_key.persona, opening_hours=tenant.opening_hours)
        access = CallAccess(tenant, agent, widget_key.pk)
        return _KeyLookup(access, widget_key.allowed_origins, generation)


def _by_admin_session(
    slug: str, origin: str | None, host: str, session_key: str | None
) -> CallAccess:
    try:
        hostname = domain_normalize(host.split(":")[0])
    except BadDomain:
        raise CallRefused(CloseCode.NOT_FOUND, f"no tenant at {host!r}") from None
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    if domain is None or domain.tenant.schema_name == "public" or not domain.tenant.is_active:
        raise CallRefused(CloseCode.NOT_FOUND, f"no active tenant at {hostname!r}")
    if not origin or urlsplit(origin).netloc.lower() != host.lower():
        raise CallRefused(CloseCode.ORIGIN_NOT_ALLOWED, "a test call must come from its own admin")
    with tenant_schema(domain.tenant.schema_name):
        if not _staff_session(session_key):
            raise CallRefused(CloseCode.BAD_KEY, "a test call needs a logged-in admin session")
        persona = Persona.objects.filter(slug=slug, is_active=True).first()
        if persona is None:
            raise CallRefused(CloseCode.NOT_FOUND, f"no active agent {slug!r}")
        agent = agent_snapshot(persona=persona, opening_hours=domain.tenant.opening_hours)
        return CallAccess(domain.tenant, agent, None)


def _staff_session(session_key: str | None) -> bool:
    """Whether the session is an active staff user's, as the admin itself decides it: with
    Django's own session check, so a session from before a password change is no longer one."""
    if not session_key:
        return False
    request = HttpRequest()
    request.session = SessionStore(session_key)
    user = get_user(request)
    return user.is_active and user.is_staff
