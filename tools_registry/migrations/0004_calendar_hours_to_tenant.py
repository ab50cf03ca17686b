"""The calendar tools' own opening hours become the tenant's: entered once, for every tool."""

from django.db import migrations

CALENDAR_TOOLS = ("check_availability", "book_appointment")
OLD_DEFAULT_HOURS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def hours_to_tenant(apps, schema_editor):
    """Runs in each tenant's schema: a tenant without opening hours takes those of its first
    calendar tool (the tools' old default when none had its own); the tools' settings lose them."""
    Tenant = apps.get_model("tenants_app", "Tenant")
    ToolEnablement = apps.get_model("tools_registry", "ToolEnablement")
    calendars = ToolEnablement.objects.filter(tool_name__in=CALENDAR_TOOLS).order_by("id")
    if not calendars.exists():
        return
    tenant = Tenant.objects.filter(schema_name=schema_editor.connection.schema_name).first()
    found = [e.settings["opening_hours"] for e in calendars if "opening_hours" in e.settings]
    if tenant is not None and not tenant.opening_hours:
        hours = found[0] if found else OLD_DEFAULT_HOURS
        Tenant.objects.filter(pk=tenant.pk).update(opening_hours=hours)
    for enablement in calendars:
        if enablement.settings.pop("opening_hours", None) is not None:
            enablement.save(update_fields=["settings"])


class Migration(migrations.Migration):
    dependencies = [
        ("tools_registry", "0003_invocation_rejected"),
        ("tenants_app", "0005_recording_and_opening_hours"),
    ]

    operations = [migrations.RunPython(hours_to_tenant, migrations.RunPython.noop)]
