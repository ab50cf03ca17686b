"""HTTP on a tenant's host."""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from tenants_app.models import Tenant


class TenantRequest(HttpRequest):
    """A request whose tenant django-tenants' middleware resolved from the host."""

    tenant: Tenant


class TenantTimezoneMiddleware:
    """A tenant's pages show dates and times in its time zone (the platform's in UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        with timezone.override(ZoneInfo(tenant.timezone) if tenant else None):
            return self.get_response(request)
