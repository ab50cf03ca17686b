"""Tool enablements (inline on a persona) and the read-only record of tool invocations."""

from django.contrib import admin

from tools_registry.models import ToolEnablement, ToolInvocation


class ToolEnablementInline(admin.TabularInline):
    model = ToolEnablement
    extra = 0
    fields = ["tool_name", "is_enabled", "settings"]


class ToolInvocationInline(admin.TabularInline):
    model = ToolInvocation
    extra = 0
    can_delete = False
    fields = ["started_at", "tool_name", "status", "duration_ms", "arguments", "result", "error"]
    readonly_fields = fields
    ordering = ["started_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ToolInvocation)
class ToolInvocationAdmin(admin.ModelAdmin):
    list_display = ["started_at", "tool_name", "status", "duration_ms", "call"]
    list_filter = ["status", "tool_name", ("started_at", admin.DateFieldListFilter)]
    readonly_fields = [f.name for f in ToolInvocation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
