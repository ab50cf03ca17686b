"""A tenant's own settings page in its admin: the business's name, time zone and recordings."""

import zoneinfo

from django import forms
from django.contrib import admin
from django.shortcuts import redirect

from tenants_app.models import BusinessSettings


@admin.register(BusinessSettings)  # on a tenant's own admin site
class BusinessSettingsAdmin(admin.ModelAdmin):
    """A tenant's admins edit their business's name and time zone; nothing of other tenants."""

    fieldsets = [
        (None, {"fields": ["name", "timezone"]}),
        ("Call recordings", {"fields": ["recording_enabled", "recording_retention_days"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        zones = sorted(zoneinfo.available_timezones())
        form.base_fields["timezone"].widget = forms.Select(choices=[(z, z) for z in zones])
        return form

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk=request.tenant.pk)

    def changelist_view(self, request, extra_context=None):
        return redirect("admin:tenants_app_businesssettings_change", request.tenant.pk)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
