"""The platform operators' admin, served on the public host only."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django_tenants.utils import get_public_schema_name

from tenants_app import business_admin  # noqa: F401  (a tenant's own settings page)
from tenants_app.domains import BadDomain, domain_normalize
from tenants_app.models import Domain, Tenant, WidgetKeyRoute
from tenants_app.setup_admin import TenantSetupAdmin


class PlatformAdminSite(admin.AdminSite):
    site_header = "Nexus platform"
    site_title = "Nexus platform"
    index_title = "Tenants and operators"


platform_admin_site = PlatformAdminSite(name="platform_admin")


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ["domain", "is_primary"]

    def clean_domain(self) -> str:
        """One spelling per host: two tenants cannot hold one host spelled two ways."""
        try:
            return domain_normalize(self.cleaned_data["domain"])
        except BadDomain as error:
            raise forms.ValidationError(str(error)) from None


class DomainInline(admin.TabularInline):
    model = Domain
    form = DomainForm
    extra = 0


@admin.register(Tenant, site=platform_admin_site)
class TenantAdmin(TenantSetupAdmin):
    list_display = ["name", "slug", "schema_name", "is_active", "concurrent_call_limit"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "schema_name", "timezone", "is_active"]}),
        (
            "Calls",
            {
                "fields": [
                    "concurrent_call_limit",
                    "calls_per_client_limit",
                    "call_idle_timeout_seconds",
                    "call_max_duration_seconds",
                ]
            },
        ),
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):
        return ["schema_name"] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        """The platform's own tenant (the public schema) is never deleted."""
        if obj is not None and obj.schema_name == get_public_schema_name():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(WidgetKeyRoute, site=platform_admin_site)
class WidgetKeyRouteAdmin(admin.ModelAdmin):
    list_display = ["key", "tenant"]
    list_filter = ["tenant"]
    search_fields = ["key"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


platform_admin_site.register(User, UserAdmin)
platform_admin_site.register(Group, GroupAdmin)
