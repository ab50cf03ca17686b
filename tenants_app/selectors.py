"""Reads of tenants: lookup by slug, their pages, and a tenant's configuration for export."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from tenants_app.config import Admin, CallLimits, Knowledge, TenantConfig, ToolSetting
from tenants_app.db import tenant_schema
from tenants_app.domains import domain_origin
from tenants_app.models import Domain, Tenant
from tenants_app.services import WEBSITE_KEY_LABEL
from voice.models import Persona, WidgetKey
from voice.selectors import persona_knowledge, persona_tools_enabled


@dataclass(frozen=True)
class TenantPages:
    """Where a tenant's own pages are: its admin and its demo page."""

    name: str
    admin_url: str
    demo_url: str


def tenant_pages_list(*, scheme: str, port: str) -> list[TenantPages]:
    """Every active tenant's admin and demo page, on its primary host, this server's port."""
    pages = []
    for domain in (
        Domain.objects.filter(is_primary=True, tenant__is_active=True)
        .exclude(tenant__schema_name="public")
        .select_related("tenant")
        .order_by("tenant__name")
    ):
        origin = domain_origin(domain.domain, scheme=scheme, port=port)
        pages.append(TenantPages(domain.tenant.name, f"{origin}/admin/", f"{origin}/demo/"))
    return pages


@dataclass(frozen=True)
class TenantSetupSummary:
    """What an operator passes on once a tenant is set up: where it lives, its agent and key."""

    origin: str
    agent_name: str
    website_key: WidgetKey | None


def tenant_setup_summary(*, tenant: Tenant, scheme: str, port: str) -> TenantSetupSummary:
    """The tenant's primary host (on this server's port), its first agent and its website key."""
    domain = tenant.get_primary_domain()
    origin = domain_origin(domain.domain, scheme=scheme, port=port) if domain else ""
    with tenant_schema(tenant.schema_name):
        persona = Persona.objects.order_by("id").first()
        key = (
            persona.widget_keys.filter(label=WEBSITE_KEY_LABEL, is_active=True).first()
            if persona
            else None
        )
        return TenantSetupSummary(origin, persona.name if persona else "", key)


def tenant_get(*, slug: str) -> Tenant:
    """The tenant with this slug; `Tenant.DoesNotExist` names it when there is none."""
    try:
        return Tenant.objects.exclude(schema_name="public").get(slug=slug)
    except Tenant.DoesNotExist:
        raise Tenant.DoesNotExist(f"no tenant {slug!r}") from None


def tenant_config_export(*, tenant: Tenant, agent_slug: str | None = None) -> TenantConfig:
    """The configuration that, onboarded, reproduces this tenant and its (first) agent."""
    domains = [d.domain for d in tenant.domains.order_by("-is_primary", "id")]
    with tenant_schema(tenant.schema_name):
        personas = Persona.objects.order_by("id")
        persona = personas.get(slug=agent_slug) if agent_slug else personas.first()
        if persona is None:
            raise Persona.DoesNotExist(f"tenant {tenant.slug!r} has no agent to export")
        website_key = persona.widget_keys.filter(label=WEBSITE_KEY_LABEL).first()
        admins = get_user_model().objects.filter(is_superuser=True).order_by("id")
        return TenantConfig(
            tenant_id=tenant.schema_name,
            display_name=tenant.name,
            timezone=tenant.timezone,
            domains=domains,
            concurrent_call_limit=tenant.concurrent_call_limit,
            call_limits=CallLimits(
                per_client=tenant.calls_per_client_limit,
                idle_timeout_seconds=tenant.call_idle_timeout_seconds,
                max_duration_seconds=tenant.call_max_duration_seconds,
            ),
            agent_slug=persona.slug,
            agent_name=persona.name,
            language=persona.language,
            voice_provider=persona.voice_provider,
            voice_id=persona.voice_id,
            system_prompt=persona.system_prompt,
            greeting=persona.greeting,
            knowledge=[
                Knowledge(title, content)
                for title, content in persona_knowledge(persona_id=persona.pk)
            ],
            enabled_tools=[
                ToolSetting(name, settings)
                for name, settings in persona_tools_enabled(persona_id=persona.pk)
            ],
            allowed_origins=website_key.allowed_origins if website_key else [],
            admins=[Admin(u.username, u.email) for u in admins],
            opening_hours=tenant.opening_hours,
        )
