"""A tenant's own settings page in its admin: the business's name, time zone, opening hours and
recordings."""

import zoneinfo

from django import forms
from django.contrib import admin
from django.shortcuts import redirect

from tenants_app.business_form import BusinessSettingsForm, hours_field_name
from tenants_app.models import BusinessSettings
from tenants_app.opening_hours import DAYS


@admin.register(BusinessSettings)  # on a tenant's own admin site
class BusinessSettingsAdmin(admin.ModelAdmin):
    """A tenant's admins edit their business's name, time zone and opening hours; nothing of
    other tenants."""

    form = BusinessSettingsForm
    fieldsets = [
        (None, {"fields": ["name", "timezone"]}),
        (
            "Opening hours",
            {
                "fields": [hours_field_name(day) for day in DAYS],
                "description": "In the business's time zone. The calendar tools take bookings "
                "in these hours and the agent tells callers about them. Leave a day empty when "
                "the business is closed; the second pair of times is for a day with a break.",
            },
        ),
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
