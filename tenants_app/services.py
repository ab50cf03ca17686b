"""Creating and updating tenants from their configuration."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction

from tenants_app.config import ConfigError, TenantConfig
from tenants_app.db import tenant_schema
from tenants_app.models import Domain, Tenant
from tools_registry.models import ToolEnablement
from voice.models import KnowledgeItem, Persona, WidgetKey
from voice.services import widget_key_create

WEBSITE_KEY_LABEL = "website"


@dataclass
class OnboardResult:
    tenant: Tenant
    created: bool
    changes: list[str] = field(default_factory=list)


def _sync(instance: models.Model, values: dict) -> bool:
    """Set the fields of `instance` that differ from `values`; save if any did."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if changed:
        instance.full_clean()
        instance.save()
    return bool(changed)


def tenant_onboard(*, config: TenantConfig) -> OnboardResult:
    """Create or update a tenant, its schema and its agent from `config`, all or nothing.

    Running it again with the same configuration changes nothing.
    """
    try:
        with transaction.atomic():
            return _onboard(config)
    except IntegrityError as error:
        raise ConfigError(f"{config.tenant_id}: conflicts with existing data: {error}") from error


def tenant_setup(*, config: TenantConfig) -> OnboardResult:
    """Create a new tenant from `config` as `tenant_onboard` does; an existing one is refused."""
    with transaction.atomic():
        if Tenant.objects.filter(
            models.Q(schema_name=config.tenant_id) | models.Q(slug=config.tenant_id)
        ).exists():
            raise ConfigError(
                f"{config.tenant_id}: tenant_id: a tenant {config.tenant_id!r} exists already"
            )
        return tenant_onboard(config=config)


def _onboard(config: TenantConfig) -> OnboardResult:
    values = {
        "name": config.display_name,
        "slug": config.tenant_id,
        "timezone": config.timezone,
        "opening_hours": config.opening_hours,
        "concurrent_call_limit": config.concurrent_call_limit,
        "calls_per_client_limit": config.call_limits.per_client,
        "call_idle_timeout_seconds": config.call_limits.idle_timeout_seconds,
        "call_max_duration_seconds": config.call_limits.max_duration_seconds,
    }
    tenant = Tenant.objects.filter(schema_name=config.tenant_id).first()
    if tenant is None:
        tenant = Tenant(schema_name=config.tenant_id, **values)
        tenant.save(verbosity=0)
        result = OnboardResult(tenant=tenant, created=True, changes=["tenant created"])
    else:
        result = OnboardResult(tenant=tenant, created=False)
        if _sync(tenant, values):
            result.changes.append("tenant updated")
    _sync_domains(tenant, config, result)
    with tenant_schema(tenant.schema_name):
        persona = _sync_persona(config, result)
        _sync_knowledge(persona, config, result)
        _sync_tools(persona, config, result)
        _sync_website_key(tenant, persona, config, result)
        _sync_admins(config, result)
    return result


def _sync_domains(tenant: Tenant, config: TenantConfig, result: OnboardResult) -> None:
    taken = Domain.objects.filter(domain__in=config.domains).exclude(tenant=tenant)
    if taken:
        raise ConfigError(
            f"{config.tenant_id}: domains: {taken[0].domain} belongs to another tenant"
        )
    existing = set(tenant.domains.values_list("domain", flat=True))
    for position, domain in enumerate(config.domains):
        if domain not in existing:
            Domain.objects.create(domain=domain, tenant=tenant, is_primary=position == 0)
            result.changes.append(f"domain {domain} added")
    removed = tenant.domains.exclude(domain__in=config.domains)
    if removed.exists():
        result.changes.append("domains removed: " + ", ".join(d.domain for d in removed))
        removed.delete()


def _sync_persona(config: TenantConfig, result: OnboardResult) -> Persona:
    values = {
        "name": config.agent_name,
        "system_prompt": config.system_prompt,
        "greeting": config.greeting,
        "voice_provider": config.voice_provider,
        "voice_id": config.voice_id,
        "language": config.language,
    }
    persona = Persona.objects.filter(slug=config.agent_slug).first()
    if persona is None:
        persona = Persona(slug=config.agent_slug, **values)
        persona.full_clean()
        persona.save()
        result.changes.append(f"agent {persona.slug} created")
    elif _sync(persona, values):
        result.changes.append(f"agent {persona.slug} updated")
    return persona


def _sync_knowledge(persona: Persona, config: TenantConfig, result: OnboardResult) -> None:
    current = [(k.title, k.content) for k in persona.knowledge.all()]
    wanted = [(k.title, k.content) for k in config.knowledge]
    if current != wanted:
        persona.knowledge.all().delete()
        for position, (title, content) in enumerate(wanted):
            KnowledgeItem.objects.create(
                persona=persona, title=title, content=content, position=position
            )
        result.changes.append(f"knowledge set ({len(wanted)} items)")


def _sync_tools(persona: Persona, config: TenantConfig, result: OnboardResult) -> None:
    wanted = {tool.name: tool.settings for tool in config.enabled_tools}
    stale = persona.tools.exclude(tool_name__in=wanted)
    if stale.exists():
        result.changes.append("tools removed: " + ", ".join(t.tool_name for t in stale))
        stale.delete()
    for name, settings in wanted.items():
        enablement = persona.tools.filter(tool_name=name).first()
        if enablement is None:
            ToolEnablement.objects.create(persona=persona, tool_name=name, settings=settings)
            result.changes.append(f"tool {name} enabled")
        elif _sync(enablement, {"settings": settings, "is_enabled": True}):
            result.changes.append(f"tool {name} updated")


def _sync_website_key(
    tenant: Tenant, persona: Persona, config: TenantConfig, result: OnboardResult
) -> None:
    if not config.allowed_origins:
        return
    key = WidgetKey.objects.filter(persona=persona, label=WEBSITE_KEY_LABEL).first()
    if key is None:
        widget_key_create(
            tenant=tenant,
            persona=persona,
            allowed_origins=config.allowed_origins,
            label=WEBSITE_KEY_LABEL,
        )
        result.changes.append("website widget key created")
    elif _sync(key, {"allowed_origins": config.allowed_origins}):
        result.changes.append("website widget key origins updated")


def _sync_admins(config: TenantConfig, result: OnboardResult) -> None:
    users = get_user_model().objects
    for admin in config.admins:
        if users.filter(username=admin.username).exists():
            continue
        user = users.create_user(username=admin.username, email=admin.email)
        user.is_staff = user.is_superuser = True
        user.save()
        result.changes.append(f"admin {admin.username} created (set a password to log in)")
