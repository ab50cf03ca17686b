"""HTTP on a tenant's host."""

from django.http import HttpRequest

from tenants_app.models import Tenant


class TenantRequest(HttpRequest):
    """A request whose tenant django-tenants' middleware resolved from the host."""

    tenant: Tenant
