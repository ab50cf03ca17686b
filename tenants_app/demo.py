"""Development logins and widget keys for the example tenants (DEBUG only, never production)."""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tenants_app.config import config_load
from tenants_app.db import tenant_schema
from tenants_app.permissions import SUPPORT_GROUP
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


def _login(username: str, *, superuser: bool, group: str | None = None) -> None:
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = superuser
    user.set_password(DEMO_PASSWORD)
    user.save()
    if group:
        user.groups.add(Group.objects.get(name=group))


def demo_setup(*, origins: list[str]) -> list[DemoTenant]:
    """Onboard every example tenant, give it demo logins and a demo key for `origins`."""
    if not settings.DEBUG:
        raise RuntimeError("demo logins are for development only (DJANGO_DEBUG=1)")
    _login("platform-admin", superuser=True)
    demos = []
    for path in sorted(EXAMPLES_DIR.glob("*/config.yaml")):
        config = config_load(path)
        tenant = tenant_onboard(config=config).tenant
        domain = tenant.get_primary_domain().domain
        with tenant_schema(tenant.schema_name):
            _login(f"{tenant.slug}-admin", superuser=True)
            _login(f"{tenant.slug}-support", superuser=False, group=SUPPORT_GROUP)
            persona = Persona.objects.get(slug=config.agent_slug)
            key = WidgetKey.objects.filter(label=DEMO_KEY_LABEL, persona=persona).first()
            tenant_origins = [o.replace("//localhost", f"//{domain}") for o in origins]
            wanted = sorted(set(origins + tenant_origins))
            if key is None:
                key = widget_key_create(
                    tenant=tenant, persona=persona, allowed_origins=wanted, label=DEMO_KEY_LABEL
                )
            elif key.allowed_origins != wanted:
                key.allowed_origins = wanted
                key.save(update_fields=["allowed_origins"])
        demos.append(DemoTenant(tenant.slug, tenant.name, domain, persona.slug, key.key))
    return demos
