"""The data migration that makes the calendar tools' own opening hours the tenant's."""

import importlib
from types import SimpleNamespace

from django.apps import apps
from django.db import connection

from tools_registry.models import ToolEnablement

migration = importlib.import_module("tools_registry.migrations.0004_calendar_hours_to_tenant")
TOOL_HOURS = {"mon": [["08:00", "12:00"]]}


def migrate_joes(joes, in_schema) -> None:
    with in_schema(joes):
        migration.hours_to_tenant(apps, SimpleNamespace(connection=connection))


def test_a_tools_hours_become_the_tenants_and_leave_its_settings(joes, in_schema):
    joes.opening_hours = {}
    joes.save()
    with in_schema(joes):
        ToolEnablement.objects.filter(tool_name="check_availability").update(
            settings={"slot_minutes": 20, "opening_hours": TOOL_HOURS}
        )

    migrate_joes(joes, in_schema)

    joes.refresh_from_db()
    assert joes.opening_hours == TOOL_HOURS
    with in_schema(joes):
        settings = dict(ToolEnablement.objects.values_list("tool_name", "settings"))
    assert settings["check_availability"] == {"slot_minutes": 20}


def test_a_tenant_with_hours_keeps_them_and_one_without_gets_the_old_default(joes, in_schema):
    hours = joes.opening_hours
    migrate_joes(joes, in_schema)
    joes.refresh_from_db()
    assert joes.opening_hours == hours

    joes.opening_hours = {}
    joes.save()
    migrate_joes(joes, in_schema)
    joes.refresh_from_db()
    assert joes.opening_hours == migration.OLD_DEFAULT_HOURS
