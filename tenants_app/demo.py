"""Development logins and widget keys for the example tenants (DEBUG only, never production)."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tenants_app.config import config_load
from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from tenants_app.permissions import SUPPORT_GROUP
from tenants_app.platform import platform_ensure
from tenants_app.services import tenant_onboard
from voice.models import Persona, WidgetKey
from voice.services import widget_key_create

DEMO_PASSWORD = "nexus-demo"
DEMO_KEY_LABEL = "demo"
EXAMPLES_DIR = Path(settings.BASE_DIR) / "examples" / "tenants"


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    domain: str
    persona: str
    widget_key: str


def _login(username: str, *, superuser: bool, group: str | None = None, reset: bool) -> None:
    """A demo login, made once: a password changed since is kept, unless `reset`."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if not (created or reset):
        return
    user.is_staff = True
    user.is_superuser = superuser
    user.set_password(DEMO_PASSWORD)
    user.save()
    if group:
        user.groups.add(Group.objects.get(name=group))


def demo_setup(*, origins: list[str], reset: bool = False) -> list[DemoTenant]:
    """Onboard the example tenants not onboarded yet, give each demo logins and a demo key
    for `origins`. What their admins changed since stays as it is, unless `reset`: then the
    example configs and the demo passwords are applied again."""
    if not settings.DEBUG:
        raise RuntimeError("demo logins are for development only (DJANGO_DEBUG=1)")
    platform_ensure(domains=["localhost", "127.0.0.1"])
    _login("platform-admin", superuser=True, reset=reset)
    demos = []
    for path in sorted(EXAMPLES_DIR.glob("*/config.yaml")):
        config = config_load(path)
        tenant = Tenant.objects.filter(schema_name=config.tenant_id).first()
        if tenant is None or reset:
            tenant = tenant_onboard(config=config).tenant
        domain = tenant.get_primary_domain().domain
        tenant_origins = [origin.replace("//localhost", f"//{domain}") for origin in origins]
        with tenant_schema(tenant.schema_name):
            _login(f"{tenant.slug}-admin", superuser=True, reset=reset)
            _login(f"{tenant.slug}-support", superuser=False, group=SUPPORT_GROUP, reset=reset)
            persona = (
                Persona.objects.filter(slug=config.agent_slug).first()
                or Persona.objects.order_by("id").first()
            )
            if persona is None:  # its admin removed every agent
                continue
            key = _demo_key(tenant, persona, sorted(set(origins + tenant_origins)))
        demos.append(DemoTenant(tenant.slug, tenant.name, domain, persona.slug, key.key))
    return demos


def _demo_key(tenant: Tenant, persona: Persona, origins: list[str]) -> WidgetKey:
    """The persona's demo key, allowing exactly `origins` (the port of this run's server)."""
    key = WidgetKey.objects.filter(label=DEMO_KEY_LABEL, persona=persona, is_active=True).first()
    if key is None:
        return widget_key_create(
            tenant=tenant, persona=persona, allowed_origins=origins, label=DEMO_KEY_LABEL
        )
    if key.allowed_origins != origins:
        key.allowed_origins = origins
        key.save(update_fields=["allowed_origins"])
    return key
