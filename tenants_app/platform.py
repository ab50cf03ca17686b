"""The public tenant: the platform operators' own host names and admin."""

from tenants_app.models import Domain, Tenant

PUBLIC_SLUG = "public"


def platform_ensure(*, domains: list[str]) -> Tenant:
    """Create the public tenant and its domains if missing (idempotent)."""
    tenant, _ = Tenant.objects.get_or_create(
        schema_name="public", defaults={"name": "Nexus platform", "slug": PUBLIC_SLUG}
    )
    for position, domain in enumerate(domains):
        Domain.objects.get_or_create(
            domain=domain, defaults={"tenant": tenant, "is_primary": position == 0}
        )
    return tenant
