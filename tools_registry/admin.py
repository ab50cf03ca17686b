"""Tool enablements (inline on a persona) and the read-only record of tool invocations."""

from django.contrib import admin

from tools_registry.forms import TenantSecretForm, ToolEnablementForm
from tools_registry.models import Booking, TenantSecret, ToolEnablement, ToolInvocation


class ToolEnablementInline(admin.StackedInline):
    """A persona's tools, each with its settings as a form of their own."""

    model = ToolEnablement
    form = ToolEnablementForm
    extra = 0
    verbose_name = "tool"
    verbose_name_plural = "tools"


@admin.register(ToolInvocation)
class ToolInvocationAdmin(admin.ModelAdmin):
    list_display = ["started_at", "tool_name", "status", "duration_ms", "error", "call"]
    list_filter = ["status", "tool_name", ("started_at", admin.DateFieldListFilter)]
    readonly_fields = [f.name for f in ToolInvocation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "calendar", "customer_name", "service", "call"]
    list_filter = ["calendar", ("starts_at", admin.DateFieldListFilter)]
    search_fields = ["customer_name"]
    readonly_fields = ["call", "invocation", "created_at"]


@admin.register(TenantSecret)
class TenantSecretAdmin(admin.ModelAdmin):
    form = TenantSecretForm
    list_display = ["name", "updated_at"]
