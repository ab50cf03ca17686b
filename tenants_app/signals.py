"""Every new tenant schema gets its "Support" group: view calls and transcripts, change nothing."""

from django.dispatch import receiver
from django_tenants.models import TenantMixin
from django_tenants.signals import post_schema_sync

from tenants_app.db import tenant_schema
from tenants_app.permissions import support_group_ensure


@receiver(post_schema_sync, sender=TenantMixin)
def create_support_group(sender, tenant, **kwargs) -> None:
    with tenant_schema(tenant.schema_name):
        support_group_ensure()
